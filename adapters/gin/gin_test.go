package ginbearer_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/accesstoken/bearer"
	ginbearer "github.com/accesstoken/bearer/adapters/gin"
	"github.com/accesstoken/bearer/internal/conformance"
)

func init() { gin.SetMode(gin.TestMode) }

func respond(c *gin.Context) {
	claims, _ := ginbearer.Claims(c)
	conformance.Respond(c.Writer, c.Request, claims)
}

// build mounts the guard the gin way: r.Use, a Group's handlers, or a
// route's handler chain.
func build(v *bearer.Validator, g conformance.Guard) http.Handler {
	r := gin.New()
	guard := ginbearer.New(v, g.Options()...)
	switch g.Scope {
	case conformance.Global:
		r.Use(guard)
		r.Any("/*path", respond)
		return r
	case conformance.Group:
		r.Group(conformance.GroupPath, guard).Any("/*path", respond)
	case conformance.Route:
		r.Any(conformance.RoutePath, guard, respond)
	}
	r.Any(conformance.PublicPath, respond)
	return r
}

func TestConformance(t *testing.T) {
	conformance.RunHTTP(t, build)
}
