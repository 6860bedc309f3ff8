package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// result is what one run of the command produced.
type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func (r result) want(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stdout, stdout) || !strings.Contains(r.stderr, stderr) {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

func introspectArgs(a *bearertest.Authority, extra ...string) []string {
	return append([]string{"introspect", "-authority", a.Issuer(), "-client-id", bearertest.DefaultClientID}, extra...)
}

func TestIntrospectActive(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, bearertest.DefaultClientSecret)
	tok := a.ReferenceToken(bearertest.Claims{"sub": "bob", "scope": "api"})
	r := runCmd(t, "", append(introspectArgs(a), tok)...)
	r.want(t, exitValid, `"sub": "bob"`, "")
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil || m["active"] != true || m["scope"] != "api" {
		t.Errorf("stdout is not the response: %v %v", m, err)
	}
}

func TestIntrospectSecretFromFlagAndPost(t *testing.T) {
	a := bearertest.New(t)
	a.SetClient("api", "s:p %+")
	t.Setenv(secretEnv, "wrong")
	runCmd(t, "", append(introspectArgs(a, "-client-secret", "s:p %+", "-auth", "post"), a.ReferenceToken(nil))...).want(t, exitValid, `"active": true`, "")
	runCmd(t, "", append(introspectArgs(a, "-client-secret", "s:p %+"), a.ReferenceToken(nil))...).want(t, exitValid, `"active": true`, "")
}

func TestIntrospectTokenFromStdin(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, bearertest.DefaultClientSecret)
	tok := a.ReferenceToken(nil)
	runCmd(t, tok+"\n", append(introspectArgs(a), "-")...).want(t, exitValid, `"active": true`, "")
}

func TestIntrospectInactive(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, bearertest.DefaultClientSecret)
	tok := a.ReferenceToken(nil)
	a.Revoke(tok)
	runCmd(t, "", append(introspectArgs(a), tok)...).want(t, exitInvalid, `"active": false`, "not active")
}

func TestIntrospectSignedResponse(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, bearertest.DefaultClientSecret)
	runCmd(t, "", append(introspectArgs(a, "-jwt"), a.ReferenceToken(nil))...).want(t, exitValid, `"active": true`, "")
}

func TestIntrospectEndpointFlag(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, bearertest.DefaultClientSecret)
	args := []string{"introspect", "-endpoint", a.IntrospectionURL(), "-client-id", "api", a.ReferenceToken(nil)}
	runCmd(t, "", args...).want(t, exitValid, `"active": true`, "")
}

func TestIntrospectUnavailable(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, bearertest.DefaultClientSecret)
	a.SetStatus(bearertest.Introspection, http.StatusBadGateway)
	runCmd(t, "", append(introspectArgs(a), "tok")...).want(t, exitUnavailable, "", "503")

	a.SetStatus(bearertest.Introspection, 0)
	t.Setenv(secretEnv, "wrong")
	runCmd(t, "", append(introspectArgs(a), "tok")...).want(t, exitUnavailable, "", "refused this API's credentials")

	a.SetDown(true)
	runCmd(t, "", append(introspectArgs(a, "-timeout", "300ms"), "tok")...).want(t, exitUnavailable, "", "503")
}

func TestIntrospectUsage(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, "")
	for name, args := range map[string][]string{
		"no token":       introspectArgs(a, "-client-secret", "s"),
		"two tokens":     introspectArgs(a, "-client-secret", "s", "a", "b"),
		"no client id":   {"introspect", "-authority", a.Issuer(), "-client-secret", "s", "tok"},
		"no secret":      introspectArgs(a, "tok"),
		"bad auth":       introspectArgs(a, "-client-secret", "s", "-auth", "jwt", "tok"),
		"no authority":   {"introspect", "-client-id", "api", "-client-secret", "s", "tok"},
		"bad flag":       introspectArgs(a, "-nope", "tok"),
		"empty token":    introspectArgs(a, "-client-secret", "s", ""),
		"empty stdin":    introspectArgs(a, "-client-secret", "s", "-"),
		"bad authority":  {"introspect", "-authority", "login.example", "-client-id", "api", "-client-secret", "s", "tok"},
		"jwt, no issuer": {"introspect", "-endpoint", a.IntrospectionURL(), "-jwt", "-client-id", "api", "-client-secret", "s", "tok"},
	} {
		t.Run(name, func(t *testing.T) {
			runCmd(t, "", args...).want(t, exitUsage, "", "")
		})
	}
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d calls for usage errors", n)
	}
}

func TestValidateValid(t *testing.T) {
	a := bearertest.New(t)
	tok := a.Token(bearertest.Claims{"aud": "api", "scope": "read write", "sub": "bob"})
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "api", tok).want(t, exitValid, `"sub": "bob"`, "")
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-scopes", "admin write", tok).want(t, exitValid, `"sub": "bob"`, "")
	runCmd(t, tok, "validate", "-authority", a.Issuer(), "-audience", "other", "-audience", "api", "-").want(t, exitValid, `"sub": "bob"`, "")
}

func TestValidateWithoutAudienceAcceptsTheTokensOwn(t *testing.T) {
	a := bearertest.New(t)
	tok := a.Token(bearertest.Claims{"aud": []string{"api", "web"}})
	runCmd(t, "", "validate", "-authority", a.Issuer(), tok).want(t, exitValid, `"aud"`, `accepting the token's own aud`)
	runCmd(t, "", "validate", "-authority", a.Issuer(), a.Token(nil)).want(t, exitUsage, "", "give -audience or -scopes")
}

func TestValidateInvalid(t *testing.T) {
	a := bearertest.New(t)
	expired := a.Token(bearertest.Claims{"aud": "api", "exp": time.Now().Add(-time.Hour)})
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "api", expired).want(t, exitInvalid, "", "401 invalid_token")
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "web", a.Token(bearertest.Claims{"aud": "api"})).want(t, exitInvalid, "", "audience mismatch")
	r := runCmd(t, "", "validate", "-authority", a.Issuer(), "-scopes", "admin", a.Token(bearertest.Claims{"scope": "read"}))
	r.want(t, exitInvalid, "", "403 insufficient_scope")
	r.want(t, exitInvalid, "", "required scope: admin")
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "api", a.ReferenceToken(nil)).want(t, exitInvalid, "", "can only be introspected")
}

func TestValidateUnavailable(t *testing.T) {
	a := bearertest.New(t)
	tok := a.Token(bearertest.Claims{"aud": "api"})
	a.SetDown(true)
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "api", "-timeout", "300ms", tok).want(t, exitUnavailable, "", "unavailable")
}

func TestValidateUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no authority":  {"validate", "-audience", "api", "a.b.c"},
		"bad authority": {"validate", "-authority", "login.example", "-audience", "api", "a.b.c"},
		"no token":      {"validate", "-authority", "https://login.example"},
		"bad audience":  {"validate", "-authority", "https://login.example", "-audience", "", "a.b.c"},
	} {
		t.Run(name, func(t *testing.T) {
			runCmd(t, "", args...).want(t, exitUsage, "", "")
		})
	}
}

func TestDecode(t *testing.T) {
	a := bearertest.New(t)
	tok := a.Token(bearertest.Claims{"sub": "bob"})
	r := runCmd(t, "", "decode", tok)
	r.want(t, exitValid, "UNVERIFIED header:", "")
	r.want(t, exitValid, "UNVERIFIED payload:", "")
	r.want(t, exitValid, `"sub": "bob"`, "")
	r.want(t, exitValid, "exp: ", "")
	r.want(t, exitValid, "NOT checked", "")
	runCmd(t, tok, "decode", "-").want(t, exitValid, `"alg": "RS256"`, "")
}

func TestDecodeNotAJWT(t *testing.T) {
	for name, tok := range map[string]string{
		"reference token": "0123456789abcdef",
		"bad base64":      "a!.b.c",
		"not JSON":        "YWJj.YWJj.c",
		"bad payload":     "e30.a!.c",
	} {
		t.Run(name, func(t *testing.T) {
			runCmd(t, "", "decode", tok).want(t, exitInvalid, "", "bearer decode:")
		})
	}
}

func TestUsage(t *testing.T) {
	runCmd(t, "").want(t, exitUsage, "", "usage:")
	runCmd(t, "", "frobnicate").want(t, exitUsage, "", "unknown command")
	runCmd(t, "", "help").want(t, exitValid, "usage:", "")
	runCmd(t, "", "decode", "-h").want(t, exitValid, "", "")
	runCmd(t, "", "validate", "-h").want(t, exitValid, "", "any audience the token names")
}
