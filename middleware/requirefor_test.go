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
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
)

// TestRequireFor: the requirement chosen from the request is added to the
// others, the handler reads the body f read, and f runs only for requests
// with a token.
func TestRequireFor(t *testing.T) {
	env := conformance.NewEnv(t)
	var calls atomic.Int32
	byBody := middleware.RequireFor(func(r *http.Request) bearer.Requirement {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		if string(b) == "delete" {
			return bearer.AllOf("admin")
		}
		return bearer.Requirement{}
	})
	srv := httptest.NewServer(middleware.New(env.OK, middleware.Logger(slog.New(slog.DiscardHandler)), middleware.Require(bearer.AllOf("read")), byBody)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Write(b)
		})))
	defer srv.Close()
	post := func(token, body string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}
	reader := env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "read"})
	if status, _, body := post(reader, "list"); status != 200 || body != "list" {
		t.Errorf("list: %d %q", status, body)
	}
	if status, challenge, _ := post(reader, "delete"); status != 403 || !strings.HasSuffix(challenge, `scope="admin"`) {
		t.Errorf("delete by a reader: %d %s", status, challenge)
	}
	if status, challenge, _ := post(env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "admin"}), "delete"); status != 403 || !strings.HasSuffix(challenge, `scope="read"`) {
		t.Errorf("delete by an admin who may not read: %d %s", status, challenge)
	}
	if status, body := func() (int, string) {
		s, _, b := post(env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "read admin"}), "delete")
		return s, b
	}(); status != 200 || body != "delete" {
		t.Errorf("delete by an admin: %d %q", status, body)
	}
	before := calls.Load()
	if status, _, _ := post("", "delete"); status != 401 || calls.Load() != before {
		t.Errorf("no token: %d, f ran %d times", status, calls.Load()-before)
	}
}
