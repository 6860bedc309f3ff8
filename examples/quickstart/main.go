// Command quickstart is the README's first program, whole: GET /values
// answers only requests with a valid access token, from the authority
// named in $AUTHORITY, for the audience "api" with the scope "api".
//
//	AUTHORITY=https://login.example.com go run ./examples/quickstart
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

func main() {
	v, err := bearer.New(context.Background(), bearer.Config{
		Authority:      os.Getenv("AUTHORITY"), // the issuer of the tokens, such as https://login.example.com
		Audience:       []string{"api"},
		RequiredScopes: bearer.AnyOf("api"),
	})
	if err != nil {
		log.Fatal(err)
	}

	// Realm names this API in the challenge of each refusal:
	// WWW-Authenticate: Bearer realm="values", error="invalid_token", …
	protect := middleware.New(v, middleware.Realm("values"))

	mux := http.NewServeMux()
	mux.Handle("GET /values", protect(http.HandlerFunc(values)))
	addr := cmp.Or(os.Getenv("ADDR"), "127.0.0.1:8080") // ADDR=:8080 listens on every interface
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}

// values runs only for a request whose token the middleware accepted.
func values(w http.ResponseWriter, r *http.Request) {
	claims, _ := bearer.ClaimsFromContext(r.Context())
	fmt.Fprintf(w, "hello %s, your scopes: %v\n", claims.Subject, claims.Scopes)
}
