package grpcbearer_test

import (
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/accesstoken/bearer"
	grpcbearer "github.com/accesstoken/bearer/adapters/grpc"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
)

// TestEveryRefusalObserved: each call the interceptor refuses is reported
// to the Observer once, with its reason, the method's own requirements
// included, so that metrics count what clients were told.
func TestEveryRefusalObserved(t *testing.T) {
	a := bearertest.New(t)
	v, obs := conformance.NewObserved(t, a)
	conn := serve(t, v, grpcbearer.Require(unary, bearer.AllOf("admin")))
	for _, tc := range []struct {
		name string
		auth []string
		code codes.Code
		want error
	}{
		{"admin", []string{"Bearer " + a.Token(bearertest.Payload{"aud": "api", "scope": "admin"})}, codes.OK, nil},
		{"the method's scope missing", []string{"Bearer " + a.Token(bearertest.Payload{"aud": "api", "scope": "read"})}, codes.PermissionDenied, bearer.ErrInsufficientScope},
		{"malformed credentials", []string{"Bearer a b"}, codes.Unauthenticated, bearer.ErrMalformed},
		{"two authorization values", []string{"Bearer x", "Bearer y"}, codes.InvalidArgument, bearer.ErrInvalidRequest},
		{"no token", nil, codes.Unauthenticated, bearer.ErrNoToken},
	} {
		before := obs.Len()
		r := callUnary(withToken(t.Context(), tc.auth...), conn, unary)
		if status.Code(r.err) != tc.code {
			t.Fatalf("%s: %v, want %v", tc.name, r.err, tc.code)
		}
		got := obs.Since(before)
		if len(got) != 1 || (got[0].Err == nil) != (tc.want == nil) || !errors.Is(got[0].Err, tc.want) {
			t.Errorf("%s: observed %v, want one validation with %v", tc.name, got, tc.want)
		}
	}
}
