// Package echobearer protects echo routes with a bearer.Validator.
//
//	e := echo.New()
//	api := e.Group("/api", echobearer.New(v)) // every route of the group
//	api.GET("/users", func(c echo.Context) error {
//		claims, _ := echobearer.Claims(c)
//		return c.String(http.StatusOK, "hello "+claims.Subject)
//	})
//	// A route with its own scope requirement:
//	e.DELETE("/orders/:id", cancel, echobearer.New(v, bearermw.Require(bearer.AllOf("orders:write"))))
//
// where bearermw is github.com/accesstoken/bearer/middleware, renamed
// because echo has a middleware package of its own.
//
// It is that net/http middleware run inside an echo handler, so it takes
// the same options and answers every request exactly as it does: the same
// statuses, challenges and bodies, and a CORS preflight needs a token like
// any request (mount echo's CORS middleware before it). Refusals are
// written directly rather than returned as errors, so echo's
// HTTPErrorHandler does not reformat them; to render them your way (say
// as application/problem+json), give bearermw.ErrorHandler.
//
// e.Use(echobearer.New(v)) guards every route. Each guard validates the
// token, so give a route the one guard with the requirement it needs
// rather than nesting guards.
package echobearer

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// claimsKey is the echo.Context key of the claims. echo keys are strings,
// so it is long enough not to collide with an application's own.
const claimsKey = "github.com/accesstoken/bearer/adapters/echo.claims"

// New returns an echo middleware that admits only requests with a valid
// token, with the options of the net/http middleware (Require, Optional,
// Realm, …). A refused request is answered by bearer.WriteError and the
// chain stops there. An admitted one continues with its claims both on the
// echo.Context (see Claims) and on the request's context
// (bearer.ClaimsFromContext).
func New(v *bearer.Validator, opts ...middleware.Option) echo.MiddlewareFunc {
	guard := middleware.New(v, opts...)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// The net/http middleware decides; the inner handler only
			// records what it let through, and echo's chain carries on
			// outside it so that errors from next return the usual way.
			var admitted *http.Request
			guard(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				admitted = r
			})).ServeHTTP(c.Response(), c.Request())
			if admitted == nil {
				return nil
			}
			c.SetRequest(admitted)
			if claims, ok := bearer.ClaimsFromContext(admitted.Context()); ok {
				c.Set(claimsKey, claims)
			}
			return next(c)
		}
	}
}

// Claims returns the claims New stored on c. It reports false for
// anonymous requests (Optional) and routes New does not guard.
func Claims(c echo.Context) (*bearer.Claims, bool) {
	claims, ok := c.Get(claimsKey).(*bearer.Claims)
	return claims, ok && claims != nil
}
