package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
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
	tok := a.ReferenceToken(bearertest.Payload{"sub": "bob", "scope": "api"})
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
	runCmd(t, "", append(introspectArgs(a), "tok")...).want(t, exitUnavailable, "", "refused the API's credentials")

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
	tok := a.Token(bearertest.Payload{"aud": "api", "scope": "read write", "sub": "bob"})
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "api", tok).want(t, exitValid, `"sub": "bob"`, "")
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-scopes", "admin write", tok).want(t, exitValid, `"sub": "bob"`, "")
	runCmd(t, tok, "validate", "-authority", a.Issuer(), "-audience", "other", "-audience", "api", "-").want(t, exitValid, `"sub": "bob"`, "")
}

func TestValidateWithoutAudienceAcceptsTheTokensOwn(t *testing.T) {
	a := bearertest.New(t)
	tok := a.Token(bearertest.Payload{"aud": []string{"api", "web"}})
	runCmd(t, "", "validate", "-authority", a.Issuer(), tok).want(t, exitValid, `"aud"`, `valid, for the audience it names ["api" "web"]`)
	runCmd(t, "", "validate", "-authority", a.Issuer(), a.Token(nil)).want(t, exitUsage, "", "give -audience or -scopes")
}

func TestValidateInvalid(t *testing.T) {
	a := bearertest.New(t)
	expired := a.Token(bearertest.Payload{"aud": "api", "exp": time.Now().Add(-time.Hour)})
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "api", expired).want(t, exitInvalid, "", "401 invalid_token")
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "web", a.Token(bearertest.Payload{"aud": "api"})).want(t, exitInvalid, "", "audience mismatch")
	r := runCmd(t, "", "validate", "-authority", a.Issuer(), "-scopes", "admin", a.Token(bearertest.Payload{"scope": "read"}))
	r.want(t, exitInvalid, "", "403 insufficient_scope")
	r.want(t, exitInvalid, "", "needs admin")
	runCmd(t, "", "validate", "-authority", a.Issuer(), "-audience", "api", a.ReferenceToken(nil)).want(t, exitInvalid, "", "can only be introspected")
}

func TestValidateUnavailable(t *testing.T) {
	a := bearertest.New(t)
	tok := a.Token(bearertest.Payload{"aud": "api"})
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
	tok := a.Token(bearertest.Payload{"sub": "bob"})
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
	runCmd(t, "", "validate", "-h").want(t, exitValid, "any audience the token names", "")
}

// TestHelpOfEveryCommand: -h prints the command's usage line and its
// flags on stdout, and exits 0.
func TestHelpOfEveryCommand(t *testing.T) {
	for cmd, flags := range map[string][]string{
		"introspect": {"-authority URL", "-endpoint URL", "-client-id ID", "-client-secret secret", "-auth method", "-key file", "-key-id kid", "-jwt", "-timeout duration", "-v\t" + verboseUsage},
		"validate":   {"-authority URL", "-audience audience", "-scopes scopes", "-timeout duration", "-v\t" + verboseUsage},
		"decode":     nil,
	} {
		for _, h := range []string{"-h", "-help", "--help"} {
			r := runCmd(t, "", cmd, h)
			r.want(t, exitValid, "usage: bearer "+cmd+" ", "")
			for _, f := range flags {
				r.want(t, exitValid, "  "+f+"\n", "")
			}
			if r.stderr != "" {
				t.Errorf("%s %s wrote to stderr: %s", cmd, h, r.stderr)
			}
		}
		// After the token too, and a mistake prints usage on stderr.
		runCmd(t, "", cmd, "a.b.c", "-h").want(t, exitValid, "usage: bearer "+cmd+" ", "")
		runCmd(t, "", cmd).want(t, exitUsage, "", "usage: bearer "+cmd+" ")
	}
}

// TestFlagsAfterTheToken: flags may follow TOKEN; after "--" everything
// is an argument, so a token that begins with "-" can be given.
func TestFlagsAfterTheToken(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, bearertest.DefaultClientSecret)
	tok := a.Token(bearertest.Payload{"aud": "api", "sub": "bob"})
	runCmd(t, "", "validate", tok, "-authority", a.Issuer(), "-audience", "api").want(t, exitValid, `"sub": "bob"`, "")
	runCmd(t, "", "validate", "-authority", a.Issuer(), tok, "-audience", "api").want(t, exitValid, `"sub": "bob"`, "")
	runCmd(t, tok, "validate", "-", "-authority", a.Issuer(), "-audience", "api").want(t, exitValid, `"sub": "bob"`, "")
	ref := a.ReferenceToken(nil)
	runCmd(t, "", "introspect", ref, "-authority", a.Issuer(), "-client-id", "api").want(t, exitValid, `"active": true`, "")
	// "-abc" is a token here, unknown to the authority, not a flag.
	runCmd(t, "", "introspect", "-authority", a.Issuer(), "-client-id", "api", "--", "-abc").want(t, exitInvalid, `"active": false`, "")
	runCmd(t, "", "introspect", "-authority", a.Issuer(), "-client-id", "api", "-abc").want(t, exitUsage, "", "flag provided but not defined")
	runCmd(t, "", "validate", tok, "-authority", a.Issuer(), tok).want(t, exitUsage, "", "want exactly one TOKEN argument, got 2")
	runCmd(t, "", "decode", "--", tok).want(t, exitValid, `"sub": "bob"`, "")
}

// TestRefusedConnectionFailsAtOnce: an authority that refuses connections
// is reported after the first attempt, not after the timeout. The bound
// is a tenth of the timeout, far above the milliseconds it takes.
func TestRefusedConnectionFailsAtOnce(t *testing.T) {
	gone := bearertest.NewAuthority()
	gone.Close()
	t.Setenv(secretEnv, "s")
	for name, args := range map[string][]string{
		"validate":              {"validate", "-timeout", "100s", "-authority", gone.Issuer(), "-audience", "api", "a.b.c"},
		"introspect, discovery": {"introspect", "-timeout", "100s", "-authority", gone.Issuer(), "-client-id", "api", "tok"},
		"introspect, endpoint":  {"introspect", "-timeout", "100s", "-endpoint", gone.IntrospectionURL(), "-client-id", "api", "tok"},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			runCmd(t, "", args...).want(t, exitUnavailable, "", "connection refused")
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestIntrospectPrivateKeyJWT: the API authenticates with a private key
// read from a PEM file, in each of the usual encodings.
func TestIntrospectPrivateKeyJWT(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, "")
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	ref := a.ReferenceToken(bearertest.Payload{"sub": "bob"})
	args := func(file string, extra ...string) []string {
		return append(append(introspectArgs(a, "-auth", "private_key_jwt", "-key", file, "-key-id", "k1"), extra...), ref)
	}
	a.SetClientKey(ec.Public())
	runCmd(t, "", args(write("pkcs8.pem", "PRIVATE KEY", pkcs8))...).want(t, exitValid, `"sub": "bob"`, "")
	runCmd(t, "", args(write("sec1.pem", "EC PRIVATE KEY", sec1))...).want(t, exitValid, `"sub": "bob"`, "")
	a.SetClientKey(rsaKey.Public())
	runCmd(t, "", args(write("pkcs1.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)))...).want(t, exitValid, `"sub": "bob"`, "")
	// A key the authority does not know.
	runCmd(t, "", args(filepath.Join(dir, "sec1.pem"))...).want(t, exitUnavailable, "", "refused the API's credentials")

	for name, a := range map[string][]string{
		"no key":              introspectArgs(a, "-auth", "private_key_jwt", "tok"),
		"and a secret":        introspectArgs(a, "-auth", "private_key_jwt", "-key", filepath.Join(dir, "sec1.pem"), "-client-secret", "s", "tok"),
		"key with basic":      introspectArgs(a, "-key", filepath.Join(dir, "sec1.pem"), "-client-secret", "s", "tok"),
		"no such file":        introspectArgs(a, "-auth", "private_key_jwt", "-key", filepath.Join(dir, "none.pem"), "tok"),
		"no private key":      introspectArgs(a, "-auth", "private_key_jwt", "-key", write("cert.pem", "CERTIFICATE", []byte{1}), "tok"),
		"garbled private key": introspectArgs(a, "-auth", "private_key_jwt", "-key", write("bad.pem", "PRIVATE KEY", []byte{1}), "tok"),
	} {
		t.Run(name, func(t *testing.T) { runCmd(t, "", a...).want(t, exitUsage, "", "bearer introspect:") })
	}
}
