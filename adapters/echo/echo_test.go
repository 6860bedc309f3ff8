package echobearer_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/accesstoken/bearer"
	echobearer "github.com/accesstoken/bearer/adapters/echo"
	"github.com/accesstoken/bearer/internal/conformance"
)

func respond(c echo.Context) error {
	claims, _ := echobearer.Claims(c)
	conformance.Respond(c.Response(), c.Request(), claims)
	return nil
}

// build mounts the guard the echo way: e.Use, a Group's middleware, or a
// route's middleware.
func build(v *bearer.Validator, g conformance.Guard) http.Handler {
	e := echo.New()
	guard := echobearer.New(v, g.Options()...)
	switch g.Scope {
	case conformance.Global:
		e.Use(guard)
		e.Any("/*", respond)
		return e
	case conformance.Group:
		e.Group(conformance.GroupPath, guard).Any("/*", respond)
	case conformance.Route:
		e.Any(conformance.RoutePath, respond, guard)
	}
	e.Any(conformance.PublicPath, respond)
	return e
}

func TestConformance(t *testing.T) {
	conformance.RunHTTP(t, build)
}
