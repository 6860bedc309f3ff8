package echobearer_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/accesstoken/bearer/internal/conformance"
)

// TestLogoutConformance runs the back-channel logout table against the
// Validator's LogoutHandler wrapped by echo.
func TestLogoutConformance(t *testing.T) {
	conformance.RunLogout(t, func(h http.Handler) http.Handler {
		e := echo.New()
		e.Any(conformance.LogoutPath, echo.WrapHandler(h))
		return e
	})
}
