package middleware_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
)

// authorizationSeeds are the Authorization values of the conformance
// table, with a real token filled in.
func authorizationSeeds(token string) []string {
	out := []string{"", "Bearer", "Bearer ", "bearer  " + token, "Bearer\t" + token, "Basic " + token, "Bearer " + token + "\r\nX: y"}
	for _, c := range conformance.Cases() {
		out = append(out, c.AuthorizationValues(token)...)
	}
	return out
}

// isB64Token is RFC 6750's b64token, written out as the RFC does.
var isB64Token = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`).MatchString

// FuzzTokenFromAuthorization: a token is found only behind the Bearer
// scheme (any case) and one or more spaces, and it is a b64token; two
// values are a 400 invalid_request, anything else refused a 401
// invalid_token for a malformed token.
func FuzzTokenFromAuthorization(f *testing.F) {
	for _, s := range authorizationSeeds("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln") {
		f.Add(s, false)
	}
	f.Add("Bearer abc", true)
	f.Fuzz(func(t *testing.T, value string, twice bool) {
		values := []string{value}
		if twice {
			values = append(values, value)
		}
		token, err := middleware.TokenFromAuthorization(values)
		if err != nil {
			var e *bearer.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v", err)
			}
			if twice && (e.Status != http.StatusBadRequest || !errors.Is(err, bearer.ErrInvalidRequest)) {
				t.Fatalf("two values: %v", err)
			}
			if !twice && (e.Status != http.StatusUnauthorized || !errors.Is(err, bearer.ErrMalformed)) {
				t.Fatalf("one value: %v", err)
			}
			if token != "" {
				t.Fatalf("token %q with error %v", token, err)
			}
			return
		}
		if twice {
			t.Fatal("two Authorization values accepted")
		}
		if token == "" {
			if len(value) >= 7 && strings.EqualFold(value[:7], "Bearer ") {
				t.Fatalf("Bearer credentials %q read as no token", value)
			}
			return
		}
		if !isB64Token(token) {
			t.Fatalf("token %q is no b64token", token)
		}
		prefix, ok := strings.CutSuffix(value, token)
		if !ok || len(prefix) < 7 || !strings.EqualFold(prefix[:6], "Bearer") || strings.Trim(prefix[6:], " ") != "" {
			t.Fatalf("token %q read from %q", token, value)
		}
	})
}

// staticValidator trusts the RS256 key of env's authority as a static
// key, so requests make no call to anyone.
func staticValidator(f *testing.F, env *conformance.Env) *bearer.Validator {
	der, err := x509.MarshalPKIXPublicKey(env.Authority.PublicKey("RS256"))
	if err != nil {
		f.Fatal(err)
	}
	v, err := bearer.New(context.Background(), bearer.Config{
		Authority: env.Authority.Issuer(), Audience: []string{"api"}, Mode: bearer.ModeJWT,
		StaticKeys: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { v.Close() })
	return v
}

// challenge is the grammar of the challenges the middleware writes
// (RFC 6750 §3, RFC 9449 §7.1): quoted values hold no quote, backslash or
// control.
var challenge = regexp.MustCompile(`^(Bearer realm="api"|DPoP algs="[0-9A-Za-z ]+", realm="api")(, (error|error_description|scope)="[\x20\x21\x23-\x5b\x5d-\x7e]*")*$`)

// FuzzMiddleware sends the middleware, with every token source on,
// arbitrary Authorization fields, queries, form bodies and cookies. It
// must answer 200 only through the handler, otherwise 400, 401 or 403
// with a well-formed challenge and a JSON body, and never panic.
func FuzzMiddleware(f *testing.F) {
	env := conformance.NewEnv(f)
	v := staticValidator(f, env)
	handler := middleware.New(v, middleware.FromQuery(), middleware.FromForm(), middleware.FromCookie("at"),
		middleware.Require(bearer.AnyOf("read")), middleware.Logger(slog.New(slog.DiscardHandler)))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := bearer.ClaimsFromContext(r.Context()); !ok {
				t := http.StatusTeapot // the handler ran without claims
				w.WriteHeader(t)
			}
		}))
	token := env.Authority.Token(map[string]any{"aud": "api", "scope": "read"})
	for _, s := range authorizationSeeds(token) {
		f.Add(s, "", "", "")
	}
	f.Add("", "access_token="+token, "", "")
	f.Add("", "", "access_token="+token, "")
	f.Add("", "", "", "at="+token)
	f.Add("Bearer "+token, "access_token="+token, "access_token=x&access_token=y", "at=a,b; at=c")
	f.Add("", "access_token=%zz", "access_token=%", "at=\"x\"")
	f.Fuzz(func(t *testing.T, authorization, query, form, cookie string) {
		req := httptest.NewRequest(http.MethodPost, "/values", strings.NewReader(form))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			req.Header["Authorization"] = []string{authorization}
		}
		if cookie != "" {
			req.Header["Cookie"] = []string{cookie}
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			return
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		default:
			t.Fatalf("status %d (body %q)", rec.Code, rec.Body)
		}
		for _, c := range rec.Header().Values("WWW-Authenticate") {
			if !challenge.MatchString(c) {
				t.Fatalf("challenge %q", c)
			}
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("body %q", rec.Body)
		}
	})
}

// FuzzMalformedFirst: with the default sources, Bearer credentials that
// are not a b64token are refused as a malformed token whatever else the
// request holds (a query or form token, a DPoP proof), and whether or not
// the token they spoil is cached: the Validator checks the syntax only
// when the token is not cached (issue 28), and a malformed one never is.
func FuzzMalformedFirst(f *testing.F) {
	env := conformance.NewEnv(f)
	v := staticValidator(f, env)
	handler := middleware.New(v, middleware.Logger(slog.New(slog.DiscardHandler)))(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	token := env.Authority.Token(map[string]any{"aud": "api", "scope": "read"})
	f.Add(token+"*", "access_token=x", "", "")
	f.Add(token+"==x", "", "access_token=x", "")
	f.Add("a b", "", "", "eyJ.eyJ.sig")
	f.Add(token+"\x00", "x=1", "x=1", "")
	f.Fuzz(func(t *testing.T, credentials, query, form, proof string) {
		if strings.TrimLeft(credentials, " ") == "" || isB64Token(strings.TrimLeft(credentials, " ")) ||
			strings.ContainsAny(credentials, "\r\n") {
			return
		}
		// The valid token first, so that it is cached.
		ok := httptest.NewRequest(http.MethodGet, "/values", nil)
		ok.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, ok)
		if rec.Code != http.StatusOK {
			t.Fatalf("valid token: status %d", rec.Code)
		}
		req := httptest.NewRequest(http.MethodPost, "/values", strings.NewReader(form))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header["Authorization"] = []string{"Bearer " + credentials}
		if proof != "" {
			req.Header["Dpop"] = []string{proof}
		}
		rec = httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		const want = `Bearer realm="api", error="invalid_token", error_description="malformed token"`
		if got := rec.Header().Get("WWW-Authenticate"); rec.Code != http.StatusUnauthorized || got != want {
			t.Fatalf("Bearer %q: status %d, challenge %q", credentials, rec.Code, got)
		}
	})
}
