package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// TestOneLinePerOutcome: every outcome ends the command with exactly one
// line on stderr, which says it plainly, and its documented exit status
// (docs/cli.md); the library's own logs stay out of it.
func TestOneLinePerOutcome(t *testing.T) {
	a := bearertest.New(t)
	gone := bearertest.NewAuthority()
	gone.Close()
	refusing := bearertest.New(t)
	refusing.SetStatus(bearertest.Introspection, http.StatusBadGateway)
	t.Setenv(secretEnv, bearertest.DefaultClientSecret)
	inactive := a.ReferenceToken(nil)
	a.Revoke(inactive)
	validate := func(extra ...string) []string {
		return append([]string{"validate", "-authority", a.Issuer()}, extra...)
	}
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string // the whole line, or its start when it ends in "…"
	}{
		{"valid", validate("-audience", "api", a.Token(bearertest.Payload{"aud": "api"})), exitValid,
			"bearer validate: valid"},
		{"valid, audience not checked", validate(a.Token(bearertest.Payload{"aud": "api"})), exitValid,
			`bearer validate: valid, for the audience it names ["api"] (give -audience or -scopes to check it is meant for your API)`},
		{"expired", validate("-audience", "api", a.Token(bearertest.Payload{"aud": "api", "exp": time.Now().Add(-time.Hour)})), exitInvalid,
			"bearer validate: invalid token: token expired (an API answers 401 invalid_token)"},
		{"another audience", validate("-audience", "web", a.Token(bearertest.Payload{"aud": "api"})), exitInvalid,
			"bearer validate: invalid token: audience mismatch (an API answers 401 invalid_token)"},
		{"another authority", validate("-audience", "api", gone.Token(bearertest.Payload{"aud": "api"})), exitInvalid,
			"bearer validate: invalid token: …"},
		{"a scope missing", validate("-scopes", "admin", a.Token(bearertest.Payload{"scope": "read"})), exitInvalid,
			"bearer validate: insufficient scope: needs admin (an API answers 403 insufficient_scope)"},
		{"none of several scopes", validate("-scopes", "admin root", a.Token(bearertest.Payload{"scope": "read"})), exitInvalid,
			"bearer validate: insufficient scope: needs one of admin, root (an API answers 403 insufficient_scope)"},
		{"not a JWT", validate("-audience", "api", "0123456789abcdef"), exitInvalid,
			"bearer validate: not a JWT; a reference token can only be introspected (bearer introspect)"},
		{"decode, not a JWT", []string{"decode", "0123456789abcdef"}, exitInvalid,
			"bearer decode: not a JWT (a JWT has 3 dot-separated parts, this has 1); a reference token can only be introspected (bearer introspect)"},
		{"authority gone", []string{"validate", "-authority", gone.Issuer(), "-audience", "api", a.Token(nil)}, exitUnavailable,
			"bearer validate: authority unavailable: …"},
		{"active", introspectArgs(a, a.ReferenceToken(nil)), exitValid,
			"bearer introspect: active"},
		{"inactive", introspectArgs(a, inactive), exitInvalid,
			"bearer introspect: not active (an API answers 401 invalid_token)"},
		{"credentials refused", introspectArgs(a, "-client-secret", "wrong", "tok"), exitUnavailable,
			"bearer introspect: authority unavailable: the introspection endpoint refused the API's credentials (status 401) (an API answers 503)"},
		{"endpoint failing", introspectArgs(refusing, "tok"), exitUnavailable,
			"bearer introspect: authority unavailable: …"},
		{"usage", validate("-audience", "api"), exitUsage,
			"bearer validate: want exactly one TOKEN argument, got 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCmd(t, "", c.args...)
			line, _, _ := strings.Cut(r.stderr, "\n")
			prefix, partial := strings.CutSuffix(c.stderr, "…")
			ok := line == c.stderr || partial && strings.HasPrefix(line, prefix)
			if c.code != exitUsage { // usage mistakes go on to print the usage
				ok = ok && strings.Count(r.stderr, "\n") == 1
			}
			if r.code != c.code || !ok || strings.Contains(r.stderr, "level=") {
				t.Errorf("exit %d, want %d\nstderr:\n%s\nwant the one line:\n%s", r.code, c.code, r.stderr, c.stderr)
			}
			if partial && (strings.Contains(line, "bearer: ") || !strings.HasSuffix(line, ")")) {
				t.Errorf("the line says the kind twice or names no answer: %s", line)
			}
		})
	}
}

// TestVerbose: -v adds the library's logs to the outcome line.
func TestVerbose(t *testing.T) {
	a := bearertest.New(t)
	t.Setenv(secretEnv, "wrong")
	r := runCmd(t, "", introspectArgs(a, "-v", "tok")...)
	if r.code != exitUnavailable || !strings.Contains(r.stderr, "level=ERROR") ||
		!strings.HasSuffix(r.stderr, "bearer introspect: authority unavailable: the introspection endpoint refused the API's credentials (status 401) (an API answers 503)\n") {
		t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "tok ") || strings.Contains(r.stderr, "=tok") {
		t.Errorf("the log shows the token:\n%s", r.stderr)
	}
}
