package chibearer_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/accesstoken/bearer/internal/conformance"
)

// TestSignalsConformance runs the Shared Signals table against a
// receiver's push endpoint routed by chi.
func TestSignalsConformance(t *testing.T) {
	conformance.RunSignals(t, func(h http.Handler) http.Handler {
		r := chi.NewRouter()
		r.Handle(conformance.SignalsPath, h)
		return r
	})
}
