package echobearer_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/accesstoken/bearer/internal/conformance"
)

// TestSignalsConformance runs the Shared Signals table against a
// receiver's push endpoint wrapped by echo.
func TestSignalsConformance(t *testing.T) {
	conformance.RunSignals(t, func(h http.Handler) http.Handler {
		e := echo.New()
		e.Any(conformance.SignalsPath, echo.WrapHandler(h))
		return e
	})
}
