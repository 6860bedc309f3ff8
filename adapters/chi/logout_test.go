package chibearer_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/accesstoken/bearer/internal/conformance"
)

// TestLogoutConformance runs the back-channel logout table against the
// Validator's LogoutHandler routed by chi.
func TestLogoutConformance(t *testing.T) {
	conformance.RunLogout(t, func(h http.Handler) http.Handler {
		r := chi.NewRouter()
		r.Handle(conformance.LogoutPath, h)
		return r
	})
}
