package echobearer_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"

	"github.com/accesstoken/bearer"
	echobearer "github.com/accesstoken/bearer/adapters/echo"
	"github.com/accesstoken/bearer/bearertest"
	bearermw "github.com/accesstoken/bearer/middleware"
)

func Example() {
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	e := echo.New()
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })

	api := e.Group("/api", echobearer.New(v)) // every route of the group needs a token
	api.GET("/hello", func(c echo.Context) error {
		claims, _ := echobearer.Claims(c)
		return c.String(http.StatusOK, "hello "+claims.Subject)
	})

	// A route with its own scope requirement.
	e.DELETE("/orders/:id", func(c echo.Context) error {
		return c.NoContent(http.StatusNoContent)
	}, echobearer.New(v, bearermw.Require(bearer.AllOf("orders:write"))))

	srv := httptest.NewServer(e)
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
