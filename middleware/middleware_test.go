package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/internal/testlog"
	"github.com/accesstoken/bearer/middleware"
)

// build mounts the guard on a ServeMux the way net/http users do: around
// the whole mux, around a subtree, or around one handler.
func build(v *bearer.Validator, g conformance.Guard) http.Handler {
	respond := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := bearer.ClaimsFromContext(r.Context())
		conformance.Respond(w, r, claims)
	})
	guard := middleware.New(v, g.Options()...)
	mux := http.NewServeMux()
	switch g.Scope {
	case conformance.Global:
		mux.Handle(conformance.GlobalPath, respond)
		return guard(mux)
	case conformance.Group:
		mux.Handle(conformance.GroupPath+"/", guard(respond))
	case conformance.Route:
		mux.Handle(conformance.RoutePath, guard(respond))
	}
	mux.Handle(conformance.PublicPath, respond)
	mux.Handle(conformance.MetadataPath, conformance.Metadata(v))
	return mux
}

func TestConformance(t *testing.T) {
	conformance.RunHTTP(t, build)
}

// TestConformanceSeveralAuthorities: a Validator of several authorities
// holding one gives every request of the Standard setup the answer a
// Validator of that one authority gives.
func TestConformanceSeveralAuthorities(t *testing.T) {
	conformance.RunHTTPSeveral(t, build)
}

// fixture is a validator that trusts a test authority, and tokens of it.
type fixture struct {
	env   *conformance.Env
	token string // aud api, scope "read"
}

func newFixture(t *testing.T) *fixture {
	env := conformance.NewEnv(t)
	return &fixture{env: env, token: env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "read"})}
}

// serve runs the middleware around a handler that answers 200 with the
// subject and the form value x, if any.
func (f *fixture) serve(t *testing.T, opts ...middleware.Option) *httptest.Server {
	t.Helper()
	opts = append([]middleware.Option{middleware.Logger(slog.New(slog.DiscardHandler))}, opts...)
	h := middleware.New(f.env.OK, opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub := "anonymous"
		if c, ok := bearer.ClaimsFromContext(r.Context()); ok {
			sub = c.Subject
		}
		fmt.Fprintf(w, "%s x=%s", sub, r.PostFormValue("x"))
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// do sends req and returns status, challenge and body.
func do(t *testing.T, req *http.Request) (int, string, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
}

func newRequest(t *testing.T, method, url, contentType, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// TestForm checks the rules of RFC 6750 §2.2 for a token in the body.
func TestForm(t *testing.T) {
	f := newFixture(t)
	srv := f.serve(t, middleware.FromForm())
	form := "x=1&access_token=" + f.token
	for _, tc := range []struct {
		name, method, contentType, body string
		status                          int
		want                            string // body, or error_description
	}{
		{"urlencoded POST", "POST", "application/x-www-form-urlencoded", form, 200, "alice x=1"},
		{"charset parameter", "PUT", "application/x-www-form-urlencoded; charset=utf-8", form, 200, "alice x=1"},
		{"GET body is not read", "GET", "application/x-www-form-urlencoded", form, 401, "no access token"},
		{"other media type is not read", "POST", "application/json", `{"access_token":"` + f.token + `"}`, 401, "no access token"},
		{"multipart is not read", "POST", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\n" + f.token + "\r\n--b--\r\n", 401, "no access token"},
		{"form without token", "POST", "application/x-www-form-urlencoded", "x=1", 401, "no access token"},
		{"token twice", "POST", "application/x-www-form-urlencoded", form + "&access_token=" + f.token, 400, "more than one access_token parameter"},
		{"token not a b64token", "POST", "application/x-www-form-urlencoded", "access_token=a%20b", 401, `"invalid_token","error_description":"malformed token"`},
		{"unreadable form", "POST", "application/x-www-form-urlencoded", "x=%zz", 400, "unreadable form body"},
		{"form too large", "POST", "application/x-www-form-urlencoded", "x=" + strings.Repeat("a", 64<<10), 400, "unreadable form body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, newRequest(t, tc.method, srv.URL, tc.contentType, tc.body))
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%d %q, want %d %q", status, body, tc.status, tc.want)
			}
		})
	}
	t.Run("form and header", func(t *testing.T) {
		req := newRequest(t, "POST", srv.URL, "application/x-www-form-urlencoded", form)
		req.Header.Set("Authorization", "Bearer "+f.token)
		if status, _, body := do(t, req); status != 400 || !strings.Contains(body, "more than one way") {
			t.Errorf("%d %q", status, body)
		}
	})
}

func TestQuery(t *testing.T) {
	f := newFixture(t)
	srv := f.serve(t, middleware.FromQuery())
	for _, tc := range []struct {
		query  string
		status int
		want   string
	}{
		{"access_token=" + f.token, 200, "alice"},
		{"access_token=a%20b", 401, `"invalid_token","error_description":"malformed token"`},
		{"access_token=", 401, `"invalid_token","error_description":"malformed token"`},
		{"access_token=a&access_token=b", 400, "more than one access_token parameter"},
		{"other=1", 401, "no access token"},
	} {
		status, _, body := do(t, newRequest(t, "GET", srv.URL+"/?"+tc.query, "", ""))
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("?%.30s: %d %q, want %d %q", tc.query, status, body, tc.status, tc.want)
		}
	}
}

func TestCookie(t *testing.T) {
	f := newFixture(t)
	srv := f.serve(t, middleware.FromCookie("at"))
	for _, tc := range []struct {
		cookie string
		status int
		want   string
	}{
		{"at=" + f.token, 200, "alice"},
		{"other=" + f.token, 401, "no access token"},
		{"at=" + f.token + "; at=" + f.token, 400, "more than one token cookie"},
		{"at=a,b", 401, `"invalid_token","error_description":"malformed token"`},
	} {
		req := newRequest(t, "GET", srv.URL, "", "")
		req.Header.Set("Cookie", tc.cookie)
		if status, _, body := do(t, req); status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("Cookie %.30s: %d %q, want %d %q", tc.cookie, status, body, tc.status, tc.want)
		}
	}
	t.Run("cookie and header", func(t *testing.T) {
		req := newRequest(t, "GET", srv.URL, "", "")
		req.Header.Set("Cookie", "at="+f.token)
		req.Header.Set("Authorization", "Bearer "+f.token)
		if status, _, body := do(t, req); status != 400 || !strings.Contains(body, "more than one way") {
			t.Errorf("%d %q", status, body)
		}
	})
}

func TestFromFunc(t *testing.T) {
	f := newFixture(t)
	custom := func(r *http.Request) (string, error) {
		switch v := r.Header.Get("X-Token"); v {
		case "":
			return "", nil
		case "plain-error":
			return "", errors.New("bad X-Token")
		case "bearer-error":
			return "", bearer.NewError(bearer.ErrInvalidToken, "revoked by gateway")
		default:
			return v, nil
		}
	}
	srv := f.serve(t, middleware.FromFunc(custom))
	for _, tc := range []struct {
		xToken, auth string
		status       int
		want         string
	}{
		{f.token, "", 200, "alice"},
		{"", "", 401, "no access token"},
		{"", "Bearer " + f.token, 200, "alice"},
		{"plain-error", "", 400, `"error":"invalid_request","error_description":"malformed credentials"`},
		{"bearer-error", "", 401, `"error":"invalid_token","error_description":"revoked by gateway"`},
		{f.token, "Bearer " + f.token, 400, "more than one way"},
		{"not-a-jwt", "", 401, "malformed token"},
	} {
		req := newRequest(t, "GET", srv.URL, "", "")
		if tc.xToken != "" {
			req.Header.Set("X-Token", tc.xToken)
		}
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		if status, _, body := do(t, req); status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("X-Token %.20q: %d %q, want %d %q", tc.xToken, status, body, tc.status, tc.want)
		}
	}
}

// TestRequireAddsToConfig: a route's requirement is checked on top of
// Config.RequiredScopes, and each names its own scopes in the challenge.
func TestRequireAddsToConfig(t *testing.T) {
	a := bearertest.New(t)
	v, err := bearer.New(t.Context(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, RequiredScopes: bearer.AnyOf("api"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	f := &fixture{env: &conformance.Env{Authority: a, OK: v}}
	srv := f.serve(t, middleware.Require(bearer.AllOf("write")))
	for _, tc := range []struct {
		scope     string
		status    int
		challenge string
	}{
		{"api write", 200, ""},
		{"write", 403, `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="api"`},
		{"api", 403, `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="write"`},
	} {
		req := newRequest(t, "GET", srv.URL, "", "")
		req.Header.Set("Authorization", "Bearer "+a.Token(bearertest.Payload{"aud": "api", "scope": tc.scope}))
		if status, challenge, _ := do(t, req); status != tc.status || challenge != tc.challenge {
			t.Errorf("scope %q: %d %q, want %d %q", tc.scope, status, challenge, tc.status, tc.challenge)
		}
	}
}

func TestHooks(t *testing.T) {
	f := newFixture(t)
	var (
		mu        sync.Mutex
		validated []string
		failed    []error
	)
	srv := f.serve(t,
		middleware.Require(bearer.AnyOf("read")),
		middleware.OnValidated(func(r *http.Request, c *bearer.Claims) {
			mu.Lock()
			defer mu.Unlock()
			validated = append(validated, r.URL.Path+" "+c.Subject)
		}),
		middleware.OnFailed(func(r *http.Request, err error) {
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, err)
		}),
	)
	send := func(token string) {
		req := newRequest(t, "GET", srv.URL+"/p", "", "")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		do(t, req)
	}
	send(f.token)
	send("")
	send(f.env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "other"}))
	// A preflight is a request without a token like any other (review
	// finding 1).
	pre := newRequest(t, "OPTIONS", srv.URL+"/p", "", "")
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	do(t, pre)

	mu.Lock()
	defer mu.Unlock()
	if len(validated) != 1 || validated[0] != "/p alice" {
		t.Errorf("OnValidated: %q", validated)
	}
	if len(failed) != 3 || !errors.Is(failed[0], bearer.ErrNoToken) || !errors.Is(failed[1], bearer.ErrInsufficientScope) || !errors.Is(failed[2], bearer.ErrNoToken) {
		t.Fatalf("OnFailed: %v", failed)
	}
	var e *bearer.Error
	if !errors.As(failed[1], &e) || e.Scope != "read" {
		t.Errorf("OnFailed error %#v is not the *bearer.Error answered", failed[1])
	}
}

// TestErrorHandlerKeepsHooksAndLogs: an ErrorHandler changes the
// rendering only. OnFailed and the log see each refusal, the handler gets
// the same *bearer.Error and the request, the writer underneath is
// reachable (http.ResponseController), and the guarded handler never runs.
func TestErrorHandlerKeepsHooksAndLogs(t *testing.T) {
	f := newFixture(t)
	var logs testlog.Buffer
	var (
		mu       sync.Mutex
		failed   []error
		rendered []*bearer.Error
		paths    []string
	)
	guarded := 0
	h := middleware.New(f.env.OK,
		middleware.Logger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		middleware.Require(bearer.AnyOf("admin")),
		middleware.OnFailed(func(r *http.Request, err error) {
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, err)
		}),
		middleware.ErrorHandler(func(w http.ResponseWriter, r *http.Request, e *bearer.Error) {
			mu.Lock()
			rendered = append(rendered, e)
			paths = append(paths, r.URL.Path)
			mu.Unlock()
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(e.Status)
			fmt.Fprintln(w, e.Description)
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush through the error handler's writer: %v", err)
			}
		}),
	)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { guarded++ }))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	status, challenge, body := do(t, newRequest(t, "GET", srv.URL+"/a", "", ""))
	if status != 401 || challenge != `Bearer realm="api"` || body != "no access token\n" {
		t.Errorf("no token: %d %q %q", status, challenge, body)
	}
	req := newRequest(t, "GET", srv.URL+"/b", "", "")
	req.Header.Set("Authorization", "Bearer "+f.token)
	status, challenge, body = do(t, req)
	if status != 403 || !strings.Contains(challenge, `scope="admin"`) || body != "insufficient scope\n" {
		t.Errorf("insufficient scope: %d %q %q", status, challenge, body)
	}

	mu.Lock()
	defer mu.Unlock()
	if guarded != 0 {
		t.Errorf("the guarded handler ran %d times", guarded)
	}
	if len(rendered) != 2 || len(failed) != 2 || failed[0] != error(rendered[0]) || failed[1] != error(rendered[1]) ||
		paths[0] != "/a" || paths[1] != "/b" {
		t.Errorf("OnFailed %v, rendered %v for %q", failed, rendered, paths)
	}
	if out := logs.String(); strings.Count(out, "bearer: request refused") != 2 || !strings.Contains(out, "token="+bearer.Fingerprint(f.token)) {
		t.Errorf("refusals not logged:\n%s", out)
	}
}

// TestLogsNoToken captures the middleware's and the validator's logs for
// refused requests and checks that tokens appear only as fingerprints.
func TestLogsNoToken(t *testing.T) {
	var logs testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := bearertest.New(t)
	v, err := bearer.New(t.Context(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Mode: bearer.ModeJWT, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	srv := httptest.NewServer(middleware.New(v, middleware.Logger(logger), middleware.FromQuery())(http.NotFoundHandler()))
	t.Cleanup(srv.Close)

	tokens := []string{
		a.Token(bearertest.Payload{"aud": "other"}),
		a.Token(bearertest.Payload{"aud": "api", "exp": time.Now().Add(-time.Hour)}),
		a.TokenWith("RS256", map[string]any{"kid": "unknown"}, bearertest.Payload{"aud": "api"}),
		"opaque-reference-token-0123456789abcdef",
	}
	for _, token := range tokens {
		req := newRequest(t, "GET", srv.URL+"/x", "", "")
		req.Header.Set("Authorization", "Bearer "+token)
		if status, _, _ := do(t, req); status != 401 {
			t.Errorf("status %d, want 401", status)
		}
		// The same token in the query, refused for coming twice.
		req = newRequest(t, "GET", srv.URL+"/x?access_token="+token, "", "")
		req.Header.Set("Authorization", "Bearer "+token)
		do(t, req)
	}

	out := logs.String()
	for _, token := range tokens {
		if !strings.Contains(out, "token="+bearer.Fingerprint(token)) {
			t.Errorf("no fingerprint %s for a refused token in:\n%s", bearer.Fingerprint(token), out)
		}
		for i := 0; i+20 <= len(token); i++ {
			if strings.Contains(out, token[i:i+20]) {
				t.Fatalf("logs contain token material %q:\n%s", token[i:i+20], out)
			}
		}
	}
	if !strings.Contains(out, "level=DEBUG msg=\"bearer: request refused\"") || !strings.Contains(out, "path=/x") || !strings.Contains(out, "status=401") {
		t.Errorf("refusals not logged at debug with path and status:\n%s", out)
	}
}

// TestLogLevels: every refusal is logged at debug, a 503 included: the
// Validator logs the outage once, at WARN, when it begins (not per
// request, which would flood the logs while the authority is down).
func TestLogLevels(t *testing.T) {
	var logs testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	env := conformance.NewEnv(t)
	token := env.Authority.Token(bearertest.Payload{"aud": "other"})
	for _, v := range []*bearer.Validator{env.OK, env.Down} {
		srv := httptest.NewServer(middleware.New(v, middleware.Logger(logger))(http.NotFoundHandler()))
		req := newRequest(t, "GET", srv.URL, "", "")
		req.Header.Set("Authorization", "Bearer "+token)
		do(t, req)
		srv.Close()
	}
	out := logs.String()
	if strings.Contains(out, "bearer: request refused") {
		t.Errorf("a refusal logged above debug:\n%s", out)
	}
}

// TestDefaultLogger: without Logger the middleware logs to slog.Default.
func TestDefaultLogger(t *testing.T) {
	var logs testlog.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	env := conformance.NewEnv(t)
	srv := httptest.NewServer(middleware.New(env.OK)(http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	do(t, newRequest(t, "GET", srv.URL, "", ""))
	if !strings.Contains(logs.String(), "bearer: request refused") {
		t.Errorf("nothing logged to slog.Default: %q", logs.String())
	}
}
