//go:build unix

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// apiServer serves the walkthrough's GET /values behind the real bearer
// middleware, as examples/api does.
func apiServer(t testing.TB, v *bearer.Validator) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /values", middleware.New(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := bearer.ClaimsFromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"values": []string{"4", "2"}, "client_id": claims.ClientID})
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/values"
}

// response is what a test looks at in an answer.
type response struct {
	Status    int
	Challenge string // WWW-Authenticate
	Body      string
}

func call(t testing.TB, url, token string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)}
}

// wantStatus fails the test unless r has the status and, for refusals,
// the RFC 6750 error code in its challenge.
func wantStatus(t testing.TB, what string, r response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d (challenge %q, body %q)", what, r.Status, status, r.Challenge, r.Body)
		return
	}
	if code != "" && !strings.Contains(r.Challenge, `error="`+code+`"`) {
		t.Errorf("%s: challenge %q, want error=%q", what, r.Challenge, code)
	}
}
