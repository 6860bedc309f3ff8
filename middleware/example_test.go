package middleware_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

// get sends a GET with an optional bearer token and prints the status and
// the challenge or the body.
func get(url, token string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if c := resp.Header.Get("WWW-Authenticate"); c != "" {
		fmt.Println(resp.StatusCode, c)
		return
	}
	var body [64]byte
	n, _ := resp.Body.Read(body[:])
	fmt.Println(resp.StatusCode, string(body[:n]))
}

func hello(w http.ResponseWriter, r *http.Request) {
	if claims, ok := bearer.ClaimsFromContext(r.Context()); ok {
		fmt.Fprintf(w, "hello %s", claims.Subject)
		return
	}
	fmt.Fprint(w, "hello stranger")
}

func ExampleNew() {
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", hello)
	api := httptest.NewServer(middleware.New(v)(mux)) // protect everything
	defer api.Close()

	get(api.URL+"/hello", "")
	get(api.URL+"/hello", authority.Token(bearertest.Payload{"aud": "api"}))
	// Output:
	// 401 Bearer realm="api"
	// 200 hello alice
}

// Each route can require its own scopes.
func ExampleRequire() {
	authority := bearertest.NewAuthority()
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.Handle("/read", middleware.New(v, middleware.Require(bearer.AnyOf("read", "write")))(http.HandlerFunc(hello)))
	mux.Handle("/admin", middleware.New(v, middleware.Require(bearer.AllOf("admin", "write")))(http.HandlerFunc(hello)))
	api := httptest.NewServer(mux)
	defer api.Close()

	reader := authority.Token(bearertest.Payload{"aud": "api", "scope": "read"})
	get(api.URL+"/read", reader)
	get(api.URL+"/admin", reader)
	// Output:
	// 200 hello alice
	// 403 Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="admin write"
}

// Optional admits anonymous requests but still refuses bad tokens.
func ExampleOptional() {
	authority := bearertest.NewAuthority()
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	api := httptest.NewServer(middleware.New(v, middleware.Optional())(http.HandlerFunc(hello)))
	defer api.Close()

	get(api.URL, "")
	get(api.URL, authority.Token(bearertest.Payload{"aud": "api"}))
	get(api.URL, authority.Token(bearertest.Payload{"aud": "another-api"}))
	// Output:
	// 200 hello stranger
	// 200 hello alice
	// 401 Bearer realm="api", error="invalid_token", error_description="audience mismatch"
}

// An application renders refusals its own way, here as RFC 9457 problem
// details; the challenge in WWW-Authenticate stays the library's.
func ExampleErrorHandler() {
	authority := bearertest.NewAuthority()
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	problem := func(w http.ResponseWriter, r *http.Request, e *bearer.Error) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"type":   "about:blank",
			"title":  http.StatusText(e.Status),
			"status": e.Status,
			"detail": e.Description,
		})
	}
	api := httptest.NewServer(middleware.New(v, middleware.ErrorHandler(problem))(http.HandlerFunc(hello)))
	defer api.Close()

	resp, err := http.Get(api.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	fmt.Println(resp.Header.Get("WWW-Authenticate"))
	fmt.Print(string(body))
	// Output:
	// 401 application/problem+json
	// Bearer realm="api"
	// {"detail":"no access token","status":401,"title":"Unauthorized","type":"about:blank"}
}
