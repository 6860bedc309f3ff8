// Command api is the walkthrough's protected API: GET /values answers two
// random digits to a caller with a valid token, GET /identity echoes the
// token's claims, GET /healthz needs no token, and POST
// /backchannel-logout is where the authority signs a user out (register it
// as the backchannel_logout_uri of the client -client-id names).
//
//	go run ./examples/api                      # embedded test authority
//	go run ./examples/api -authority https://login.example.com -audience api
package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/examples/internal/demo"
	"github.com/accesstoken/bearer/middleware"
)

func main() { demo.Main("api", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return demo.Run(ctx, "api", args, stdout, stderr, routes)
}

func routes(v *bearer.Validator) http.Handler {
	protect := middleware.New(v)
	mux := http.NewServeMux()
	mux.Handle("GET /values", protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, demo.Values())
	})))
	mux.Handle("GET /identity", protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := bearer.ClaimsFromContext(r.Context())
		writeJSON(w, claims)
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	mux.Handle("POST "+demo.LogoutPath, v.LogoutHandler())
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
