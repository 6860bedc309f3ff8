// Package chibearer protects chi routes with a bearer.Validator.
//
//	r := chi.NewRouter()
//	r.Group(func(r chi.Router) {
//		r.Use(chibearer.New(v)) // every route of the group
//		r.Get("/users", users)
//	})
//	// A route with its own scope requirement:
//	r.With(chibearer.New(v, middleware.Require(bearer.AllOf("orders:write")))).Delete("/orders/{id}", cancel)
//
// r.Use(chibearer.New(v)) guards every route. Each guard validates the
// token, so give a route the one guard with the requirement it needs
// rather than nesting guards.
//
// chi routes plain net/http handlers, so New is the net/http middleware of
// github.com/accesstoken/bearer/middleware, with its options, and the
// claims are where chi keeps request values: on the request's context,
// read with bearer.ClaimsFromContext(r.Context()).
package chibearer

import (
	"net/http"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// New returns chi middleware that admits only requests with a valid token
// and puts its claims on the request context. It takes the net/http
// middleware's options (middleware.Require, middleware.Optional, …) and
// answers exactly as that middleware does.
func New(v *bearer.Validator, opts ...middleware.Option) func(http.Handler) http.Handler {
	return middleware.New(v, opts...)
}
