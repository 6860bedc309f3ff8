// Command chi is examples/api written with chi: the same flags, routes and
// behaviour. GET /values answers two random digits to a caller with a
// valid token, GET /identity echoes the token's claims, GET /healthz needs
// no token, POST /backchannel-logout signs a user out.
//
//	go run ./examples/chi                      # embedded test authority
//	go run ./examples/chi -authority https://login.example.com -audience api
package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/accesstoken/bearer"
	chibearer "github.com/accesstoken/bearer/adapters/chi"
	"github.com/accesstoken/bearer/examples/internal/demo"
)

func main() { demo.Main("chi", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return demo.Run(ctx, "chi", args, stdout, stderr, routes)
}

func routes(v *bearer.Validator) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	r.Method(http.MethodPost, demo.LogoutPath, v.LogoutHandler())
	r.Group(func(r chi.Router) {
		r.Use(chibearer.New(v))
		r.Get("/values", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, demo.Values())
		})
		r.Get("/identity", func(w http.ResponseWriter, r *http.Request) {
			claims, _ := bearer.ClaimsFromContext(r.Context())
			writeJSON(w, claims)
		})
	})
	return r
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
