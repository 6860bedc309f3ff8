package ginbearer_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/accesstoken/bearer/internal/conformance"
)

// TestSignalsConformance runs the Shared Signals table against a
// receiver's push endpoint wrapped by gin.
func TestSignalsConformance(t *testing.T) {
	conformance.RunSignals(t, func(h http.Handler) http.Handler {
		r := gin.New()
		r.Any(conformance.SignalsPath, gin.WrapH(h))
		return r
	})
}
