package middleware_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// TestReview1PreflightNeverReachesTheHandler: a request shaped like a
// CORS preflight carries no token, so the guarded handler must not run
// (issue 18, finding 1), whatever method the route accepts. A CORS
// handler mounted in front answers real preflights, so browsers work.
func TestReview1PreflightNeverReachesTheHandler(t *testing.T) {
	f := newFixture(t)
	var ran atomic.Int32
	protected := middleware.New(f.env.OK, middleware.Logger(slog.New(slog.DiscardHandler)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		io.WriteString(w, "secret")
	}))
	mux := http.NewServeMux()
	mux.Handle("/values", protected) // every method, the documented pattern
	bare := httptest.NewServer(mux)
	t.Cleanup(bare.Close)
	withCORS := httptest.NewServer(cors(mux))
	t.Cleanup(withCORS.Close)

	preflight := func(url string) *http.Request {
		req := newRequest(t, http.MethodOptions, url+"/values", "", "")
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		return req
	}
	if status, challenge, body := do(t, preflight(bare.URL)); status != http.StatusUnauthorized || challenge != `Bearer realm="api"` || strings.Contains(body, "secret") {
		t.Errorf("preflight without a CORS handler: %d %q %q", status, challenge, body)
	}
	resp, err := http.DefaultClient.Do(preflight(withCORS.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Headers") != "Authorization" {
		t.Errorf("preflight answered by the CORS handler: %d %v", resp.StatusCode, resp.Header)
	}
	// The actual request after the preflight still needs its token.
	get := newRequest(t, http.MethodGet, withCORS.URL+"/values", "", "")
	get.Header.Set("Origin", "https://app.example")
	get.Header.Set("Authorization", "Bearer "+f.token)
	if status, _, body := do(t, get); status != http.StatusOK || body != "secret" {
		t.Errorf("GET with a token: %d %q", status, body)
	}
	if n := ran.Load(); n != 1 {
		t.Errorf("the protected handler ran %d times, want once (the GET with a token)", n)
	}
}

// cors is the smallest CORS handler an app would mount in front of its
// guarded routes: it answers preflights itself.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				w.Header().Set("Access-Control-Allow-Headers", "Authorization")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TestTokenInQueryOrFormWithHeaderIsRefusedEvenWhenOff: RFC 6750 §2 allows
// one method per request; a client that also puts its token in the URL or
// a form body hears of it even though the API reads neither (issue 17 §3).
// The body stays whole for the handler when no token is in it.
func TestTokenInQueryOrFormWithHeaderIsRefusedEvenWhenOff(t *testing.T) {
	f := newFixture(t)
	var got atomic.Value
	h := middleware.New(f.env.OK, middleware.Logger(slog.New(slog.DiscardHandler)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	send := func(url, contentType, body string) int {
		req := newRequest(t, http.MethodPost, url, contentType, body)
		req.Header.Set("Authorization", "Bearer "+f.token)
		status, _, _ := do(t, req)
		return status
	}
	if status := send(srv.URL+"/?access_token="+f.token, "", ""); status != http.StatusBadRequest {
		t.Errorf("header and query: %d", status)
	}
	form := "a=1&access_token=" + f.token
	if status := send(srv.URL, "application/x-www-form-urlencoded", form); status != http.StatusBadRequest {
		t.Errorf("header and form: %d", status)
	}
	large := "a=" + strings.Repeat("b", 100<<10) + "&c=d"
	for _, body := range []string{"a=1&b=2", large} {
		if status := send(srv.URL, "application/x-www-form-urlencoded", body); status != http.StatusOK {
			t.Errorf("form without a token: %d", status)
		}
		if got.Load() != body {
			t.Errorf("the handler read %d bytes of a %d-byte body", len(got.Load().(string)), len(body))
		}
	}
}

// TestRequireComposes: every Require given must hold, in the order given
// (issue 17 §4); a shared options slice plus a per-route Require keeps both.
func TestRequireComposes(t *testing.T) {
	f := newFixture(t)
	shared := []middleware.Option{middleware.Logger(slog.New(slog.DiscardHandler)), middleware.Require(bearer.AllOf("a"))}
	srv := f.serve(t, append(shared, middleware.Require(bearer.AllOf("b")))...)
	for scope, want := range map[string]int{"b": 403, "a": 403, "a b": 200, "": 403} {
		tok := f.env.Authority.Token(map[string]any{"aud": "api", "scope": scope})
		req := newRequest(t, http.MethodGet, srv.URL, "", "")
		req.Header.Set("Authorization", "Bearer "+tok)
		if status, _, _ := do(t, req); status != want {
			t.Errorf("scope %q: %d, want %d", scope, status, want)
		}
	}
}
