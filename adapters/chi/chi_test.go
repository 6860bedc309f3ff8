package chibearer_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/accesstoken/bearer"
	chibearer "github.com/accesstoken/bearer/adapters/chi"
	"github.com/accesstoken/bearer/internal/conformance"
)

func respond(w http.ResponseWriter, r *http.Request) {
	claims, _ := bearer.ClaimsFromContext(r.Context())
	conformance.Respond(w, r, claims)
}

// build mounts the guard the chi way: r.Use, a sub-router's Use, or
// r.With on one route.
func build(v *bearer.Validator, g conformance.Guard) http.Handler {
	r := chi.NewRouter()
	guard := chibearer.New(v, g.Options()...)
	switch g.Scope {
	case conformance.Global:
		r.Use(guard)
		r.HandleFunc(conformance.GlobalPath, respond)
		return r
	case conformance.Group:
		r.Route(conformance.GroupPath, func(r chi.Router) {
			r.Use(guard)
			r.HandleFunc("/*", respond)
		})
	case conformance.Route:
		r.With(guard).HandleFunc(conformance.RoutePath, respond)
	}
	r.HandleFunc(conformance.PublicPath, respond)
	r.Handle(conformance.MetadataPath, conformance.Metadata(v))
	return r
}

func TestConformance(t *testing.T) {
	conformance.RunHTTP(t, build)
}
