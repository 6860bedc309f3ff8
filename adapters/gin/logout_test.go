package ginbearer_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/accesstoken/bearer/internal/conformance"
)

// TestLogoutConformance runs the back-channel logout table against the
// Validator's LogoutHandler wrapped by gin.
func TestLogoutConformance(t *testing.T) {
	conformance.RunLogout(t, func(h http.Handler) http.Handler {
		r := gin.New()
		r.Any(conformance.LogoutPath, gin.WrapH(h))
		return r
	})
}
