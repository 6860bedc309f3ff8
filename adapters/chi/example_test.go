package chibearer_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/accesstoken/bearer"
	chibearer "github.com/accesstoken/bearer/adapters/chi"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

func Example() {
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	r.Route("/api", func(r chi.Router) {
		r.Use(chibearer.New(v)) // every route of the group needs a token
		r.Get("/hello", func(w http.ResponseWriter, r *http.Request) {
			claims, _ := bearer.ClaimsFromContext(r.Context())
			fmt.Fprintf(w, "hello %s", claims.Subject)
		})
	})
	// A route with its own scope requirement.
	r.With(chibearer.New(v, middleware.Require(bearer.AllOf("orders:write")))).
		Delete("/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})

	srv := httptest.NewServer(r)
	defer srv.Close()
	reader := authority.Token(bearertest.Payload{"aud": "api", "scope": "orders:read"})
	show(srv.URL+"/healthz", "GET", "")
	show(srv.URL+"/api/hello", "GET", "")
	show(srv.URL+"/api/hello", "GET", reader)
	show(srv.URL+"/orders/7", "DELETE", reader)
	// Output:
	// 200 ok
	// 401 Bearer realm="api"
	// 200 hello alice
	// 403 Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="orders:write"
}

// show sends a request and prints the status and the challenge or the body.
func show(url, method, token string) {
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if c := resp.Header.Get("WWW-Authenticate"); c != "" {
		fmt.Println(resp.StatusCode, c)
		return
	}
	fmt.Println(resp.StatusCode, string(body))
}
