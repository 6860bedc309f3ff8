package middleware_test

import (
	"net/http"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
)

// build mounts the guard on a ServeMux the way net/http users do: around
// the whole mux, around a subtree, or around one handler.
func build(v *bearer.Validator, g conformance.Guard) http.Handler {
	respond := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := bearer.ClaimsFromContext(r.Context())
		conformance.Respond(w, r, claims)
	})
	guard := middleware.New(v, g.Options()...)
	mux := http.NewServeMux()
	switch g.Scope {
	case conformance.Global:
		mux.Handle("/", respond)
		return guard(mux)
	case conformance.Group:
		mux.Handle(conformance.GroupPath+"/", guard(respond))
	case conformance.Route:
		mux.Handle(conformance.RoutePath, guard(respond))
	}
	mux.Handle(conformance.PublicPath, respond)
	return mux
}

func TestConformance(t *testing.T) {
	conformance.RunHTTP(t, build)
}
