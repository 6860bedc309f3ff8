package middleware_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
)

// TestEveryRefusalObserved: the refusals the middleware decides before the
// token is read (malformed credentials, a token sent two ways) reach the
// Observer like every other, once each, so that the validation metrics
// count what clients were answered.
func TestEveryRefusalObserved(t *testing.T) {
	a := bearertest.New(t)
	v, obs := conformance.NewObserved(t, a)
	srv := httptest.NewServer(middleware.New(v, middleware.Logger(slog.New(slog.DiscardHandler)))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer srv.Close()
	token := a.Token(bearertest.Payload{"aud": "api"})
	for _, tc := range []struct {
		name   string
		query  string
		auth   []string
		status int
		kind   error
	}{
		{"valid", "", []string{"Bearer " + token}, http.StatusOK, nil},
		{"malformed credentials", "", []string{"Bearer a b"}, http.StatusUnauthorized, bearer.ErrMalformed},
		{"two Authorization fields", "", []string{"Bearer " + token, "Bearer " + token}, http.StatusBadRequest, bearer.ErrInvalidRequest},
		{"header and query", "?access_token=" + token, []string{"Bearer " + token}, http.StatusBadRequest, bearer.ErrInvalidRequest},
		{"no token", "", nil, http.StatusUnauthorized, bearer.ErrNoToken},
	} {
		before := obs.Len()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.query, nil)
		for _, h := range tc.auth {
			req.Header.Add("Authorization", h)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		got := obs.Since(before)
		if len(got) != 1 || (got[0].Err == nil) != (tc.kind == nil) || !errors.Is(got[0].Err, tc.kind) {
			t.Errorf("%s: observed %+v, want one validation with %v", tc.name, got, tc.kind)
		}
	}
}
