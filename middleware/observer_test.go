package middleware_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

// validations is an Observer that keeps the validations reported.
type validations struct {
	mu  sync.Mutex
	all []bearer.Validation
}

func (o *validations) Validated(_ context.Context, v bearer.Validation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, v)
}
func (o *validations) Refreshed(context.Context, bearer.Refresh)              {}
func (o *validations) Introspected(context.Context, bearer.IntrospectionCall) {}

// TestEveryRefusalObserved: the refusals the middleware decides before the
// token is read (malformed credentials, a token sent two ways) reach the
// Observer like every other, once each, so that the validation metrics
// count what clients were answered.
func TestEveryRefusalObserved(t *testing.T) {
	a := bearertest.New(t)
	obs := &validations{}
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(middleware.New(v, middleware.Logger(slog.New(slog.DiscardHandler)))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer srv.Close()
	token := a.Token(bearertest.Claims{"aud": "api"})
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
		obs.mu.Lock()
		before := len(obs.all)
		obs.mu.Unlock()
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
		obs.mu.Lock()
		got := obs.all[before:]
		obs.mu.Unlock()
		if len(got) != 1 || (got[0].Err == nil) != (tc.kind == nil) || !errors.Is(got[0].Err, tc.kind) {
			t.Errorf("%s: observed %+v, want one validation with %v", tc.name, got, tc.kind)
		}
	}
}
