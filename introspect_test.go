package bearer_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/testlog"
)

// newIntrospector returns a standalone Introspector for a's default
// client, closed at the end of the test.
func newIntrospector(t testing.TB, a *bearertest.Authority, cfg bearer.Config) *bearer.Introspector {
	t.Helper()
	if cfg.Authority == "" && cfg.IntrospectionEndpoint == "" {
		cfg.Authority = a.Issuer()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = bearertest.DefaultClientID
	}
	if cfg.ClientSecret == "" && cfg.ClientAuth != bearer.PrivateKeyJWT {
		cfg.ClientSecret = bearertest.DefaultClientSecret
	}
	in, err := bearer.NewIntrospector(cfg)
	if err != nil {
		t.Fatalf("NewIntrospector: %v", err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// introspectionConfig is cfg with a's default client added, for a Validator.
func introspectionConfig(cfg bearer.Config) bearer.Config {
	if cfg.ClientID == "" {
		cfg.ClientID = bearertest.DefaultClientID
		cfg.ClientSecret = bearertest.DefaultClientSecret
	}
	return cfg
}

func mustActive(t *testing.T, in *bearer.Introspector, token string) *bearer.Result {
	t.Helper()
	r, err := in.Introspect(context.Background(), token)
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if !r.Active {
		t.Fatalf("Introspect: inactive: %s", mustJSON(t, r))
	}
	return r
}

// mustUnavailable checks that err is the unavailable error and nothing
// that blames the token.
func mustUnavailable(t *testing.T, err error) *bearer.Error {
	t.Helper()
	var e *bearer.Error
	if !errors.Is(err, bearer.ErrUnavailable) || errors.Is(err, bearer.ErrInvalidToken) || !errors.As(err, &e) {
		t.Fatalf("error %v, want only ErrUnavailable", err)
	}
	if e.Status != http.StatusServiceUnavailable || e.RetryAfter <= 0 {
		t.Fatalf("status %d, Retry-After %v", e.Status, e.RetryAfter)
	}
	return e
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// logBuffer collects logs written from several goroutines.
type logBuffer struct{ testlog.Buffer }

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func TestIntrospectorWithoutMiddleware(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{})
	exp := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	tok := a.ReferenceToken(bearertest.Payload{
		"aud": []string{"api", "other"}, "scope": "api read", "exp": exp, "nbf": time.Now().Add(-time.Minute),
		"username": "alice@example.com", "token_type": "Bearer", "sid": "s1", "jti": "j1",
		"cnf": map[string]any{"jkt": "thumb"}, "tenant": "t9",
	})
	r := mustActive(t, in, tok)
	if r.Issuer != a.Issuer() || r.Subject != "alice" || r.ClientID != "client" || r.Username != "alice@example.com" ||
		r.TokenType != "Bearer" || r.SessionID != "s1" || r.ID != "j1" || string(r.Confirmation) != `{"jkt":"thumb"}` {
		t.Errorf("result %+v", r)
	}
	if !r.ExpiresAt.Equal(exp) || r.IssuedAt.IsZero() || r.NotBefore.IsZero() {
		t.Errorf("times: exp %v iat %v nbf %v", r.ExpiresAt, r.IssuedAt, r.NotBefore)
	}
	if strings.Join(r.Audience, ",") != "api,other" || strings.Join(r.Scopes, " ") != "api read" || !r.HasScope("read") {
		t.Errorf("aud %v scopes %v", r.Audience, r.Scopes)
	}
	var ext struct {
		Tenant string `json:"tenant"`
	}
	if err := r.Decode(&ext); err != nil || ext.Tenant != "t9" {
		t.Errorf("Decode = %v, %+v", err, ext)
	}
	if r.Map()["tenant"] != "t9" || r.Map()["active"] != true {
		t.Errorf("Map = %v", r.Map())
	}
	// encoding/json gives the response as received, and reads it back.
	var back bearer.Result
	if err := json.Unmarshal([]byte(mustJSON(t, r)), &back); err != nil || !back.Active || back.Username != r.Username || back.Subject != "alice" {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func TestIntrospectScopeAndAudienceForms(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{})
	r := mustActive(t, in, a.ReferenceToken(bearertest.Payload{"scope": []string{"a", "b"}, "aud": "api"}))
	if strings.Join(r.Scopes, " ") != "a b" || strings.Join(r.Audience, ",") != "api" {
		t.Errorf("array scope, string aud: %v %v", r.Scopes, r.Audience)
	}
}

func TestIntrospectActiveOnlyIfJSONTrue(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{InactiveCacheDuration: -1})
	for body, want := range map[string]bool{
		`{"active":true}`:                     true,
		`{"active": true, "sub": "x"}`:        true,
		`{"active":"true"}`:                   false,
		`{"active":1}`:                        false,
		`{"active":null}`:                     false,
		`{}`:                                  false,
		`{"active":false}`:                    false,
		`{"active":false,"exp":"whenever"}`:   false, // an inactive answer's members are ignored
		`{"active":{"value":true},"sub":"x"}`: false,
	} {
		a.SetBody(bearertest.Introspection, []byte(body))
		r, err := in.Introspect(context.Background(), hashKey(body)) // a token per body
		if err != nil || r.Active != want {
			t.Errorf("%s: active %v, %v; want %v", body, r != nil && r.Active, err, want)
		}
	}
}

func TestIntrospectUnavailable(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{Timeout: 300 * time.Millisecond})
	mustActive(t, in, a.ReferenceToken(nil)) // discovery done: only the endpoint fails below
	huge := append([]byte(`{"active":true,"x":"`), bytes.Repeat([]byte("x"), 1<<20)...)
	huge = append(huge, `"}`...)
	cases := map[string]func(){
		"500":                 func() { a.SetStatus(bearertest.Introspection, 500) },
		"503":                 func() { a.SetStatus(bearertest.Introspection, 503) },
		"400":                 func() { a.SetStatus(bearertest.Introspection, 400) },
		"404":                 func() { a.SetStatus(bearertest.Introspection, 404) },
		"not JSON":            func() { a.SetBody(bearertest.Introspection, []byte("<html>hello</html>")) },
		"JSON array":          func() { a.SetBody(bearertest.Introspection, []byte(`[{"active":true}]`)) },
		"empty":               func() { a.SetBody(bearertest.Introspection, []byte{}) },
		"truncated":           func() { a.SetBody(bearertest.Introspection, []byte(`{"active":tr`)) },
		"over 1 MiB":          func() { a.SetBody(bearertest.Introspection, huge) },
		"active, bad exp":     func() { a.SetBody(bearertest.Introspection, []byte(`{"active":true,"exp":"soon"}`)) },
		"active, bad scope":   func() { a.SetBody(bearertest.Introspection, []byte(`{"active":true,"scope":7}`)) },
		"timeout":             func() { a.SetDelay(bearertest.Introspection, time.Minute) },
		"authority down":      func() { a.SetDown(true) },
		"credentials refused": func() { a.SetClient("api", "other") },
	}
	for name, fault := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				a.SetStatus(bearertest.Introspection, 0)
				a.SetBody(bearertest.Introspection, nil)
				a.SetDelay(bearertest.Introspection, 0)
				a.SetDown(false)
				a.SetClient(bearertest.DefaultClientID, bearertest.DefaultClientSecret)
			}()
			fault()
			start := time.Now()
			_, err := in.Introspect(context.Background(), a.ReferenceToken(nil))
			mustUnavailable(t, err)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestIntrospectionUnreachable(t *testing.T) {
	a := bearertest.NewAuthority()
	in := newIntrospector(t, a, bearer.Config{IntrospectionEndpoint: a.IntrospectionURL()})
	a.Close()
	_, err := in.Introspect(context.Background(), "tok")
	mustUnavailable(t, err)
}

func TestCredentialsRefusedIsLoggedAsError(t *testing.T) {
	a := bearertest.New(t)
	var logs logBuffer
	in := newIntrospector(t, a, bearer.Config{ClientSecret: "wrong", Logger: logs.logger()})
	tok := a.ReferenceToken(nil)
	_, err := in.Introspect(context.Background(), tok)
	mustUnavailable(t, err)
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "refused this API's credentials") ||
		!strings.Contains(out, bearer.Fingerprint(tok)) || strings.Contains(out, tok) || strings.Contains(out, "wrong") {
		t.Errorf("log:\n%s", out)
	}
	// Errors are not cached: fixed credentials work at once.
	a.SetClient(bearertest.DefaultClientID, "wrong")
	mustActive(t, in, tok)
}

func TestFailuresAreLoggedWithoutTheToken(t *testing.T) {
	a := bearertest.New(t)
	var logs logBuffer
	in := newIntrospector(t, a, bearer.Config{Logger: logs.logger()})
	a.SetStatus(bearertest.Introspection, 502)
	tok := a.ReferenceToken(nil)
	_, err := in.Introspect(context.Background(), tok)
	mustUnavailable(t, err)
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, bearer.Fingerprint(tok)) || strings.Contains(out, tok) {
		t.Errorf("log:\n%s", out)
	}
}

// TestStandaloneIntrospectorLogsWhatFails: an Introspector of
// NewIntrospector serves no request, so its warnings say what its caller
// gets (ErrUnavailable), where a Validator's say its requests get 503.
func TestStandaloneIntrospectorLogsWhatFails(t *testing.T) {
	a := bearertest.New(t)
	a.SetDown(true)
	var h recordHandler
	in := newIntrospector(t, a, bearer.Config{Logger: slog.New(&h)})
	_, err := in.Introspect(context.Background(), a.ReferenceToken(nil))
	mustUnavailable(t, err)
	// The failed attempt is logged after its waiters are told.
	var lines []string
	for deadline := time.Now().Add(10 * time.Second); len(lines) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		lines = h.take()
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "WARN bearer: authority not reachable; Introspect returns ErrUnavailable until it is ") {
		t.Errorf("the authority down logged as:\n%s", strings.Join(lines, "\n"))
	}
	a.SetDown(false)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, err := in.Introspect(context.Background(), a.ReferenceToken(nil))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered 10 s after the authority did: %v", err)
		}
	}
	h.take()

	a.SetStatus(bearertest.Introspection, http.StatusBadGateway)
	_, err = in.Introspect(context.Background(), a.ReferenceToken(nil))
	mustUnavailable(t, err)
	if lines := h.take(); len(lines) != 1 || !strings.HasPrefix(lines[0], "WARN bearer: introspection failing; Introspect returns ErrUnavailable for tokens not cached ") {
		t.Errorf("introspection failing logged as:\n%s", strings.Join(lines, "\n"))
	}

	// A Validator's requests get 503.
	var vh recordHandler
	v := newValidator(t, a, introspectionConfig(bearer.Config{Mode: bearer.ModeIntrospection, Logger: slog.New(&vh)}))
	vh.take()
	_, err = v.Validate(context.Background(), a.ReferenceToken(claims(nil)))
	mustUnavailable(t, err)
	if lines := vh.take(); len(lines) != 1 || !strings.HasPrefix(lines[0], "WARN bearer: introspection failing; requests with tokens not cached get 503 ") {
		t.Errorf("a Validator's introspection failing logged as:\n%s", strings.Join(lines, "\n"))
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{})
	tok := a.ReferenceToken(nil)
	a.SetStatus(bearertest.Introspection, 500)
	_, err := in.Introspect(context.Background(), tok)
	mustUnavailable(t, err)
	a.SetStatus(bearertest.Introspection, 0)
	mustActive(t, in, tok)
	if n := a.Hits(bearertest.Introspection); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestClientSecretBasicSpecialCharacters(t *testing.T) {
	for _, auth := range []bearer.ClientAuth{bearer.ClientSecretBasic, bearer.ClientSecretPost} {
		t.Run(auth.String(), func(t *testing.T) {
			a := bearertest.New(t)
			id, secret := "api:v2 %41+é/=", "s3cr:t% +&=\"é"
			a.SetClient(id, secret)
			in := newIntrospector(t, a, bearer.Config{ClientID: id, ClientSecret: secret, ClientAuth: auth})
			mustActive(t, in, a.ReferenceToken(nil))
		})
	}
}

// recorder is an introspection endpoint that keeps the last request and
// answers active.
type recorder struct {
	mu   sync.Mutex
	req  *http.Request
	form url.Values
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	rec.mu.Lock()
	rec.req, rec.form = r, r.PostForm
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"active":true}`)
}

func (rec *recorder) last() (*http.Request, url.Values) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.req, rec.form
}

func TestRequestWireFormat(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, auth := range []bearer.ClientAuth{bearer.ClientSecretBasic, bearer.ClientSecretPost, bearer.PrivateKeyJWT} {
		t.Run(auth.String(), func(t *testing.T) {
			cfg := bearer.Config{IntrospectionEndpoint: srv.URL + "/introspect", ClientID: "a:b", ClientAuth: auth}
			if auth == bearer.PrivateKeyJWT {
				cfg.ClientKey, cfg.ClientKeyID = key, "k1"
			} else {
				cfg.ClientSecret = "c d%"
			}
			in, err := bearer.NewIntrospector(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			mustActive(t, in, "opaque+/=")
			req, form := rec.last()
			if req.Method != http.MethodPost || req.URL.Path != "/introspect" ||
				req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || req.Header.Get("Accept") != "application/json" {
				t.Errorf("%s %s, headers %v", req.Method, req.URL, req.Header)
			}
			if form.Get("token") != "opaque+/=" || form.Get("token_type_hint") != "access_token" {
				t.Errorf("form %v", form)
			}
			authz := req.Header.Get("Authorization")
			switch auth {
			case bearer.ClientSecretBasic:
				// RFC 6749 §2.3.1: form-urlencode each, then Basic.
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte("a%3Ab:c+d%25"))
				if authz != want || form.Has("client_id") || form.Has("client_secret") {
					t.Errorf("Authorization %q, want %q; form %v", authz, want, form)
				}
			case bearer.ClientSecretPost:
				if authz != "" || form.Get("client_id") != "a:b" || form.Get("client_secret") != "c d%" {
					t.Errorf("Authorization %q; form %v", authz, form)
				}
			case bearer.PrivateKeyJWT:
				if authz != "" || form.Has("client_secret") || form.Get("client_id") != "a:b" ||
					form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
					t.Errorf("Authorization %q; form %v", authz, form)
				}
				tok, err := jwt.Parse(form.Get("client_assertion"), func(*jwt.Token) (any, error) { return key.Public(), nil },
					jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer("a:b"), jwt.WithSubject("a:b"),
					jwt.WithAudience(srv.URL+"/introspect"), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
				if err != nil || tok.Header["kid"] != "k1" {
					t.Errorf("assertion: %v, header %v", err, tok.Header)
				} else if jti, _ := tok.Claims.(jwt.MapClaims)["jti"].(string); jti == "" {
					t.Error("assertion has no jti")
				}
			}
		})
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, key := range map[string]crypto.Signer{"RSA": rsaKey, "ECDSA": ecKey, "Ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			a := bearertest.New(t)
			a.SetClientKey(key.Public())
			in := newIntrospector(t, a, bearer.Config{ClientAuth: bearer.PrivateKeyJWT, ClientKey: key})
			mustActive(t, in, a.ReferenceToken(nil))
		})
	}
	t.Run("key not registered", func(t *testing.T) {
		a := bearertest.New(t)
		a.SetClientKey(ecKey.Public())
		in := newIntrospector(t, a, bearer.Config{ClientAuth: bearer.PrivateKeyJWT, ClientKey: other})
		_, err := in.Introspect(context.Background(), a.ReferenceToken(nil))
		mustUnavailable(t, err)
	})
}

func TestIntrospectionJWTResponse(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{IntrospectionJWT: true})
	r := mustActive(t, in, a.ReferenceToken(bearertest.Payload{"scope": "api"}))
	if !r.HasScope("api") || r.Subject != "alice" {
		t.Errorf("result %+v", r)
	}
	revoked := a.ReferenceToken(nil)
	a.Revoke(revoked)
	if r, err := in.Introspect(context.Background(), revoked); err != nil || r.Active {
		t.Errorf("revoked: %v, %v", r, err)
	}
}

func TestIntrospectionJWTResponseRefused(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{IntrospectionJWT: true, InactiveCacheDuration: -1})
	mustActive(t, in, a.ReferenceToken(nil))
	ti := map[string]any{"active": true, "sub": "mallory"}
	payload := func(extra map[string]any) []byte {
		p := map[string]any{"iss": a.Issuer(), "aud": bearertest.DefaultClientID, "iat": time.Now().Unix(), "token_introspection": ti}
		for k, v := range extra {
			if v == nil {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		b, _ := json.Marshal(p)
		return b
	}
	header := func(typ string) []byte {
		return []byte(`{"alg":"RS256","typ":"` + typ + `","kid":"` + a.KeyID("RS256") + `"}`)
	}
	good := header("token-introspection+jwt")
	unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"token-introspection+jwt"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(payload(nil)) + "."
	tampered := a.Sign("RS256", good, payload(nil))
	tampered = tampered[:len(tampered)-4] + "AAAA"
	for name, body := range map[string]string{
		"plain JSON":             `{"active":true,"sub":"mallory"}`,
		"unsigned":               unsigned,
		"bad signature":          tampered,
		"typ JWT":                a.Sign("RS256", header("JWT"), payload(nil)),
		"typ at+jwt":             a.Sign("RS256", header("at+jwt"), payload(nil)),
		"other issuer":           a.Sign("RS256", good, payload(map[string]any{"iss": "https://evil.example"})),
		"other audience":         a.Sign("RS256", good, payload(map[string]any{"aud": "someone-else"})),
		"no audience":            a.Sign("RS256", good, payload(map[string]any{"aud": nil})),
		"expired":                a.Sign("RS256", good, payload(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})),
		"no token_introspection": a.Sign("RS256", good, payload(map[string]any{"token_introspection": nil})),
		"unknown kid":            a.Sign("RS256", []byte(`{"alg":"RS256","typ":"token-introspection+jwt","kid":"nope"}`), payload(nil)),
		"embedded jwk":           a.Sign("RS256", []byte(`{"alg":"RS256","typ":"token-introspection+jwt","jwk":{}}`), payload(nil)),
		"HMAC":                   a.Sign("RS256", []byte(`{"alg":"HS256","typ":"token-introspection+jwt"}`), payload(nil)),
		"header not base64":      "a.b.c",
		"header not an object":   a.Sign("RS256", []byte(`[1]`), payload(nil)),
		"payload not an object":  a.Sign("RS256", good, []byte(`[1]`)),
		"signature not base64":   a.Sign("RS256", good, payload(nil)) + "A",
	} {
		t.Run(name, func(t *testing.T) {
			a.SetBody(bearertest.Introspection, []byte(body))
			defer a.SetBody(bearertest.Introspection, nil)
			_, err := in.Introspect(context.Background(), "tok-"+name)
			mustUnavailable(t, err)
		})
	}
}

func TestCacheServesRepeats(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{})
	tok := a.ReferenceToken(nil)
	first := mustActive(t, in, tok)
	for range 10 {
		// A copy of the cached result: never the same (issue 18, finding 9).
		if r := mustActive(t, in, tok); r == first || r.Claims == first.Claims || r.ID != first.ID {
			t.Error("a repeat did not get a copy of the cached result")
		}
	}
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d calls for 11 introspections, want 1", n)
	}
}

func TestCacheDisabled(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{CacheDuration: -1})
	tok := a.ReferenceToken(nil)
	for range 3 {
		mustActive(t, in, tok)
	}
	if n := a.Hits(bearertest.Introspection); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}

func TestInactiveCachedBriefly(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{InactiveCacheDuration: 200 * time.Millisecond})
	for range 3 {
		if r, err := in.Introspect(context.Background(), "unknown"); err != nil || r.Active {
			t.Fatalf("%v, %v", r, err)
		}
	}
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
	time.Sleep(250 * time.Millisecond)
	in.Introspect(context.Background(), "unknown")
	if n := a.Hits(bearertest.Introspection); n != 2 {
		t.Errorf("%d calls after the inactive answer expired, want 2", n)
	}
}

func TestInactiveCacheDisabled(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{InactiveCacheDuration: -1})
	for range 3 {
		in.Introspect(context.Background(), "unknown")
	}
	if n := a.Hits(bearertest.Introspection); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}

// recordingStore is an IntrospectionCache that keeps results as JSON, as
// a shared store would, and records what it is given.
type recordingStore struct {
	mu   sync.Mutex
	data map[string][]byte
	ttls map[string]time.Duration
}

func newRecordingStore() *recordingStore {
	return &recordingStore{data: map[string][]byte{}, ttls: map[string]time.Duration{}}
}

func (s *recordingStore) Get(_ context.Context, key string) (*bearer.Result, bool) {
	s.mu.Lock()
	b, ok := s.data[key]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	var r bearer.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, false
	}
	return &r, true
}

func (s *recordingStore) Put(_ context.Context, key string, r *bearer.Result, ttl time.Duration) {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key], s.ttls[key] = b, ttl
}

func (s *recordingStore) Delete(_ context.Context, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
}

func (s *recordingStore) ttl(key string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ttls[key]
}

func hashKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func TestCacheKeyedByHashAndBoundedByExp(t *testing.T) {
	a := bearertest.New(t)
	store := newRecordingStore()
	in := newIntrospector(t, a, bearer.Config{IntrospectionCache: store, CacheDuration: 10 * time.Minute})
	soon := a.ReferenceToken(bearertest.Payload{"exp": time.Now().Add(90 * time.Second)})
	later := a.ReferenceToken(bearertest.Payload{"exp": time.Now().Add(time.Hour)})
	noExp := a.ReferenceToken(bearertest.Payload{"exp": nil})
	for _, tok := range []string{soon, later, noExp} {
		mustActive(t, in, tok)
	}
	for k := range store.data {
		for _, tok := range []string{soon, later, noExp} {
			if strings.Contains(k, tok) {
				t.Errorf("store key %q contains the token", k)
			}
		}
	}
	if d := store.ttl(hashKey(soon)); d <= 80*time.Second || d > 90*time.Second {
		t.Errorf("TTL of a token expiring in 90s: %v", d)
	}
	if d := store.ttl(hashKey(later)); d != 10*time.Minute {
		t.Errorf("TTL of a token expiring in 1h: %v, want CacheDuration", d)
	}
	if d := store.ttl(hashKey(noExp)); d != 10*time.Minute {
		t.Errorf("TTL of a token without exp: %v, want CacheDuration", d)
	}
	// Served from the store, through its JSON round trip.
	a.ResetHits()
	if r := mustActive(t, in, soon); r.Subject != "alice" || r.ExpiresAt.IsZero() {
		t.Errorf("from the store: %+v", r)
	}
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d calls for a stored result", n)
	}
}

func TestExpiredTokenNotCached(t *testing.T) {
	a := bearertest.New(t)
	store := newRecordingStore()
	in := newIntrospector(t, a, bearer.Config{IntrospectionCache: store})
	// The authority still says active (clock skew): nothing to cache.
	a.SetBody(bearertest.Introspection, []byte(fmt.Sprintf(`{"active":true,"exp":%d}`, time.Now().Add(-time.Second).Unix())))
	mustActive(t, in, "skewed")
	if _, ok := store.Get(context.Background(), hashKey("skewed")); ok {
		t.Error("a result past its exp was cached")
	}
}

func TestForget(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{})
	tok := a.ReferenceToken(nil)
	mustActive(t, in, tok)
	a.Revoke(tok)
	mustActive(t, in, tok) // cached: revocation is not seen yet
	in.Forget(tok)
	if r, err := in.Introspect(context.Background(), tok); err != nil || r.Active {
		t.Errorf("after Forget: %v, %v", r, err)
	}
}

func TestForgetDuringCallCachesNothing(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{})
	tok := a.ReferenceToken(nil)
	a.SetDelay(bearertest.Introspection, 200*time.Millisecond)
	done := make(chan struct{})
	go func() {
		defer close(done)
		in.Introspect(context.Background(), tok)
	}()
	waitHits(t, a, 1)
	in.Forget(tok)
	<-done
	a.SetDelay(bearertest.Introspection, 0)
	mustActive(t, in, tok)
	if n := a.Hits(bearertest.Introspection); n != 2 {
		t.Errorf("%d calls, want 2: the answer from before Forget was cached", n)
	}
}

func waitHits(t *testing.T, a *bearertest.Authority, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for a.Hits(bearertest.Introspection) < n {
		if time.Now().After(deadline) {
			t.Fatalf("introspection endpoint got %d calls, waited for %d", a.Hits(bearertest.Introspection), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConcurrentCallsCollapse(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{})
	a.SetDelay(bearertest.Introspection, 100*time.Millisecond)
	tok := a.ReferenceToken(nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { mustActive(t, in, tok) })
	}
	wg.Wait()
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d calls for 50 concurrent introspections, want 1", n)
	}
}

func TestCancelledWaiterReturnsAtOnce(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{})
	mustActive(t, in, a.ReferenceToken(nil)) // discovery done
	a.ResetHits()
	a.SetDelay(bearertest.Introspection, 500*time.Millisecond)
	tok := a.ReferenceToken(nil)

	ctx, cancel := context.WithCancel(context.Background())
	quitter := make(chan error, 1)
	go func() {
		_, err := in.Introspect(ctx, tok)
		quitter <- err
	}()
	waitHits(t, a, 1)
	other := make(chan error, 1)
	go func() {
		_, err := in.Introspect(context.Background(), tok)
		other <- err
	}()

	cancel()
	start := time.Now()
	select {
	case err := <-quitter:
		mustUnavailable(t, err)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not say the caller gave up", err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("the cancelled caller returned after %v", d)
		}
	case <-time.After(400 * time.Millisecond):
		t.Fatal("the cancelled caller waited for the call")
	}
	if err := <-other; err != nil {
		t.Errorf("the other caller failed: %v", err)
	}
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestCancelledContextCallsNothing(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{IntrospectionEndpoint: a.IntrospectionURL()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := in.Introspect(ctx, "tok")
	mustUnavailable(t, err)
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d calls", n)
	}
}

func TestSharedCallBoundedByTimeout(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{IntrospectionEndpoint: a.IntrospectionURL(), Timeout: 200 * time.Millisecond})
	a.SetDelay(bearertest.Introspection, time.Minute)
	start := time.Now()
	_, err := in.Introspect(context.Background(), "tok") // the caller sets no deadline
	mustUnavailable(t, err)
	if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v, want about Timeout", d)
	}
}

func TestCloseEndsCallsAndServesCache(t *testing.T) {
	a := bearertest.New(t)
	in, err := bearer.NewIntrospector(bearer.Config{Authority: a.Issuer(), ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	cached := a.ReferenceToken(nil)
	mustActive(t, in, cached)
	a.SetDelay(bearertest.Introspection, time.Minute)
	errc := make(chan error, 1)
	go func() {
		_, err := in.Introspect(context.Background(), a.ReferenceToken(nil))
		errc <- err
	}()
	waitHits(t, a, 2)
	start := time.Now()
	in.Close()
	in.Close() // idempotent
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	mustUnavailable(t, <-errc)
	mustActive(t, in, cached)
	_, err = in.Introspect(context.Background(), a.ReferenceToken(nil))
	mustUnavailable(t, err)
	if n := a.Hits(bearertest.Introspection); n != 2 {
		t.Errorf("%d calls, want none after Close", n)
	}
}

func TestIntrospectRefusesEmptyAndHugeTokens(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{MaxTokenSize: 100})
	if _, err := in.Introspect(context.Background(), ""); !errors.Is(err, bearer.ErrNoToken) {
		t.Errorf("empty: %v", err)
	}
	if _, err := in.Introspect(context.Background(), strings.Repeat("a", 101)); !errors.Is(err, bearer.ErrInvalidToken) || !errors.Is(err, bearer.ErrTooLarge) {
		t.Errorf("huge: %v", err)
	}
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d calls", n)
	}
}

func TestEndpointGivenDirectlyNeedsNoDiscovery(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{IntrospectionEndpoint: a.IntrospectionURL()})
	mustActive(t, in, a.ReferenceToken(nil))
	if n := a.Hits(bearertest.Discovery) + a.Hits(bearertest.Metadata) + a.Hits(bearertest.JWKS); n != 0 {
		t.Errorf("%d discovery or JWKS requests", n)
	}
}

func TestEndpointOverridesDiscovery(t *testing.T) {
	a := bearertest.New(t)
	a.SetDiscovery(func(doc map[string]any) { doc["introspection_endpoint"] = a.URL + "/elsewhere" })
	in := newIntrospector(t, a, bearer.Config{Authority: a.Issuer(), IntrospectionEndpoint: a.IntrospectionURL(), IntrospectionJWT: true})
	mustActive(t, in, a.ReferenceToken(nil))
}

func TestNoIntrospectionEndpointDiscovered(t *testing.T) {
	a := bearertest.New(t)
	a.SetDiscovery(func(doc map[string]any) { delete(doc, "introspection_endpoint") })
	var logs logBuffer
	in := newIntrospector(t, a, bearer.Config{Logger: logs.logger()})
	_, err := in.Introspect(context.Background(), a.ReferenceToken(nil))
	mustUnavailable(t, err)
	if !strings.Contains(logs.String(), "no introspection_endpoint") {
		t.Errorf("log:\n%s", logs.String())
	}
}

func TestDiscoveryDownIsUnavailable(t *testing.T) {
	a := bearertest.New(t)
	a.SetDown(true)
	in := newIntrospector(t, a, bearer.Config{Timeout: 200 * time.Millisecond})
	_, err := in.Introspect(context.Background(), "tok")
	mustUnavailable(t, err)
}

func TestIntrospectorConfigErrors(t *testing.T) {
	rsaShort, _ := rsa.GenerateKey(rand.Reader, 1024)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	base := bearer.Config{Authority: "https://login.example", ClientID: "api", ClientSecret: "s"}
	for name, edit := range map[string]func(*bearer.Config){
		"no client id":                   func(c *bearer.Config) { c.ClientID = "" },
		"no authority nor endpoint":      func(c *bearer.Config) { c.Authority = "" },
		"bad authority":                  func(c *bearer.Config) { c.Authority = "login.example" },
		"unknown client auth":            func(c *bearer.Config) { c.ClientAuth = 7 },
		"no secret":                      func(c *bearer.Config) { c.ClientSecret = "" },
		"no secret for post":             func(c *bearer.Config) { c.ClientSecret, c.ClientAuth = "", bearer.ClientSecretPost },
		"private_key_jwt without key":    func(c *bearer.Config) { c.ClientAuth = bearer.PrivateKeyJWT },
		"private_key_jwt short RSA":      func(c *bearer.Config) { c.ClientAuth, c.ClientKey = bearer.PrivateKeyJWT, rsaShort },
		"private_key_jwt P-224":          func(c *bearer.Config) { c.ClientAuth, c.ClientKey = bearer.PrivateKeyJWT, p224 },
		"private_key_jwt odd key type":   func(c *bearer.Config) { c.ClientAuth, c.ClientKey = bearer.PrivateKeyJWT, oddSigner{} },
		"relative endpoint":              func(c *bearer.Config) { c.IntrospectionEndpoint = "/introspect" },
		"http endpoint, https authority": func(c *bearer.Config) { c.IntrospectionEndpoint = "http://login.example/introspect" },
		"bad static keys": func(c *bearer.Config) {
			c.StaticKeys, c.IntrospectionJWT, c.IntrospectionEndpoint = []byte("junk"), true, "https://login.example/introspect"
		},
		"static keys, no endpoint": func(c *bearer.Config) { c.StaticKeys = staticKeyPEM(t) },
		"JWT responses without authority": func(c *bearer.Config) {
			c.Authority, c.IntrospectionEndpoint, c.IntrospectionJWT = "", "https://login.example/introspect", true
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			edit(&cfg)
			if in, err := bearer.NewIntrospector(cfg); err == nil {
				in.Close()
				t.Error("NewIntrospector accepted it")
			}
			if cfg.ClientID != "" {
				cfg.Audience = []string{"api"}
				if v, err := bearer.New(context.Background(), cfg); err == nil {
					v.Close()
					t.Error("New accepted it")
				}
			}
		})
	}
}

// TestIntrospectorRefusesValidatorFields: NewIntrospector reports
// answers, it does not judge tokens, so the fields a Validator judges with
// are refused rather than silently ignored.
func TestIntrospectorRefusesValidatorFields(t *testing.T) {
	base := bearer.Config{IntrospectionEndpoint: "https://login.example/introspect", ClientID: "api", ClientSecret: "s"}
	for name, edit := range map[string]func(*bearer.Config){
		"Audience":              func(c *bearer.Config) { c.Audience = []string{"api"} },
		"RequiredScopes":        func(c *bearer.Config) { c.RequiredScopes = bearer.AnyOf("api") },
		"ModeJWT":               func(c *bearer.Config) { c.Mode = bearer.ModeJWT },
		"SharedSecret":          func(c *bearer.Config) { c.SharedSecret = []byte(strings.Repeat("s", 32)) },
		"StrictTokenType":       func(c *bearer.Config) { c.StrictTokenType = true },
		"RevocationStore":       func(c *bearer.Config) { c.RevocationStore = blockedStore{} },
		"SessionOnlyLogout":     func(c *bearer.Config) { c.SessionOnlyLogout = true },
		"MaxTokenLifetime":      func(c *bearer.Config) { c.MaxTokenLifetime = time.Hour },
		"RevocationSyncTimeout": func(c *bearer.Config) { c.RevocationSyncTimeout = time.Second },
		"RequireRevocationSync": func(c *bearer.Config) { c.RequireRevocationSync = true },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			edit(&cfg)
			in, err := bearer.NewIntrospector(cfg)
			if err == nil {
				in.Close()
				t.Fatal("NewIntrospector accepted it")
			}
			if !strings.Contains(err.Error(), "NewIntrospector") {
				t.Errorf("error %q does not say why", err)
			}
		})
	}
	// ModeIntrospection is what an Introspector does anyway.
	cfg := base
	cfg.Mode = bearer.ModeIntrospection
	in, err := bearer.NewIntrospector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in.Close()
}

// oddSigner is a crypto.Signer of a kind no JWS algorithm fits.
type oddSigner struct{}

func (oddSigner) Public() crypto.PublicKey                                  { return nil }
func (oddSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, nil }

// staticKeyPEM is a public key in PEM, as Config.StaticKeys takes it.
func staticKeyPEM(t *testing.T) []byte {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestStaticKeysWithIntrospectionEndpoint(t *testing.T) {
	a := bearertest.New(t)
	v, err := bearer.New(context.Background(), introspectionConfig(bearer.Config{
		Authority: a.Issuer(), Audience: []string{"api"}, StaticKeys: staticKeyPEM(t), IntrospectionEndpoint: a.IntrospectionURL(),
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	mustValid(t, v, a.ReferenceToken(claims(nil)))
	// JWT mode never introspects, so it needs no endpoint.
	v2, err := bearer.New(context.Background(), introspectionConfig(bearer.Config{
		Authority: a.Issuer(), Audience: []string{"api"}, StaticKeys: staticKeyPEM(t), Mode: bearer.ModeJWT,
	}))
	if err != nil {
		t.Fatal(err)
	}
	v2.Close()
}

func TestClientAuthString(t *testing.T) {
	for a, want := range map[bearer.ClientAuth]string{
		bearer.ClientSecretBasic: "client_secret_basic", bearer.ClientSecretPost: "client_secret_post",
		bearer.PrivateKeyJWT: "private_key_jwt", 9: "ClientAuth(9)",
	} {
		if a.String() != want {
			t.Errorf("%d: %q", int(a), a.String())
		}
	}
}

func TestResultUnmarshalRefusesBadJSON(t *testing.T) {
	for _, body := range []string{`[]`, `"x"`, `{"active":true,"exp":"soon"}`, `{"active":`} {
		var r bearer.Result
		if err := json.Unmarshal([]byte(body), &r); err == nil {
			t.Errorf("%s: accepted", body)
		}
	}
}

// TestIntrospectionCacheDropsExpiredAnswers: as TestCacheDropsExpiredEntries,
// for the answers of the in-memory introspection cache.
func TestIntrospectionCacheDropsExpiredAnswers(t *testing.T) {
	const n = 20
	a := bearertest.New(t)
	life := 100 * time.Millisecond
	v := newValidator(t, a, bearer.Config{ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret, CacheDuration: life})
	for range n {
		mustValid(t, v, a.ReferenceToken(claims(nil)))
	}
	// Not necessarily all n: on a busy machine the first may have expired,
	// and been dropped, before the last was cached.
	if s := v.Status(); s.IntrospectionEntries == 0 {
		t.Fatalf("Status = %+v, want answers cached", s)
	}
	time.Sleep(life) // the answers expire
	for range n {
		mustValid(t, v, a.ReferenceToken(claims(nil)))
	}
	if s := v.Status(); s.IntrospectionEntries > n {
		t.Errorf("Status = %+v: %d answers, want the %d expired ones gone", s, s.IntrospectionEntries, n)
	}
}
