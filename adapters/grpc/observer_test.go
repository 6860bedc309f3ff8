package grpcbearer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/accesstoken/bearer"
	grpcbearer "github.com/accesstoken/bearer/adapters/grpc"
	"github.com/accesstoken/bearer/bearertest"
)

// validations is an Observer that keeps the errors of validations.
type validations struct {
	mu   sync.Mutex
	errs []error
}

func (o *validations) Validated(_ context.Context, v bearer.Validation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, v.Err)
}
func (o *validations) Refreshed(context.Context, bearer.Refresh)              {}
func (o *validations) Introspected(context.Context, bearer.IntrospectionCall) {}

// TestEveryRefusalObserved: each call the interceptor refuses is reported
// to the Observer once, with its reason, the method's own requirements
// included, so that metrics count what clients were told.
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
	conn := serve(t, v, grpcbearer.Require(unary, bearer.AllOf("admin")))
	for _, tc := range []struct {
		name string
		auth []string
		code codes.Code
		want error
	}{
		{"admin", []string{"Bearer " + a.Token(bearertest.Claims{"aud": "api", "scope": "admin"})}, codes.OK, nil},
		{"the method's scope missing", []string{"Bearer " + a.Token(bearertest.Claims{"aud": "api", "scope": "read"})}, codes.PermissionDenied, bearer.ErrInsufficientScope},
		{"malformed credentials", []string{"Bearer a b"}, codes.Unauthenticated, bearer.ErrMalformed},
		{"two authorization values", []string{"Bearer x", "Bearer y"}, codes.InvalidArgument, bearer.ErrInvalidRequest},
		{"no token", nil, codes.Unauthenticated, bearer.ErrNoToken},
	} {
		obs.mu.Lock()
		before := len(obs.errs)
		obs.mu.Unlock()
		r := callUnary(withToken(t.Context(), tc.auth...), conn, unary)
		if status.Code(r.err) != tc.code {
			t.Fatalf("%s: %v, want %v", tc.name, r.err, tc.code)
		}
		obs.mu.Lock()
		got := obs.errs[before:]
		obs.mu.Unlock()
		if len(got) != 1 || (got[0] == nil) != (tc.want == nil) || !errors.Is(got[0], tc.want) {
			t.Errorf("%s: observed %v, want one validation with %v", tc.name, got, tc.want)
		}
	}
}
