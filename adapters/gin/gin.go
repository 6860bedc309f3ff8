// Package ginbearer protects gin routes with a bearer.Validator.
//
//	r := gin.New()
//	api := r.Group("/api", ginbearer.New(v)) // every route of the group
//	api.GET("/users", func(c *gin.Context) {
//		claims, _ := ginbearer.Claims(c)
//		c.String(http.StatusOK, "hello %s", claims.Subject)
//	})
//	// A route with its own scope requirement:
//	r.DELETE("/orders/:id", ginbearer.New(v, middleware.Require(bearer.AllOf("orders:write"))), cancel)
//
// r.Use(ginbearer.New(v)) guards every route. Each guard validates the
// token, so give a route the one guard with the requirement it needs
// rather than nesting guards.
//
// It is the net/http middleware of github.com/accesstoken/bearer/middleware
// run inside a gin handler, so it takes the same options and answers every
// request exactly as that middleware does: the same statuses, challenges,
// bodies, and a CORS preflight needs a token like any request (mount a
// CORS middleware such as gin-contrib/cors before it).
package ginbearer

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// claimsKey is the gin.Context key of the claims; a private type so that
// no other code can overwrite them by accident.
type claimsKey struct{}

// New returns a gin middleware that admits only requests with a valid
// token, with the options of the net/http middleware (middleware.Require,
// middleware.Optional, middleware.Realm, …). A refused request is answered
// by bearer.WriteError and aborted. An admitted one continues with its
// claims both on the gin.Context (see Claims) and on the request's context
// (bearer.ClaimsFromContext), and with c.Request replaced by the request
// the middleware passed on.
func New(v *bearer.Validator, opts ...middleware.Option) gin.HandlerFunc {
	guard := middleware.New(v, opts...)
	return func(c *gin.Context) {
		// The net/http middleware decides; the inner handler only records
		// what it let through, so gin's own chain carries on from here.
		var admitted *http.Request
		guard(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			admitted = r
		})).ServeHTTP(c.Writer, c.Request)
		if admitted == nil {
			c.Abort()
			return
		}
		c.Request = admitted
		if claims, ok := bearer.ClaimsFromContext(admitted.Context()); ok {
			c.Set(claimsKey{}, claims)
		}
	}
}

// Claims returns the claims New stored on c. It reports false for
// anonymous requests (middleware.Optional) and routes New does not
// guard.
func Claims(c *gin.Context) (*bearer.Claims, bool) {
	v, _ := c.Get(claimsKey{})
	claims, ok := v.(*bearer.Claims)
	return claims, ok && claims != nil
}
