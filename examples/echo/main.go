// Command echo is examples/api written with echo: the same flags, routes
// and behaviour. GET /values answers two random digits to a caller with a
// valid token, GET /identity echoes the token's claims, GET /healthz needs
// no token, POST /backchannel-logout signs a user out.
//
//	go run ./examples/echo                      # embedded test authority
//	go run ./examples/echo -authority https://login.example.com -audience api
package main

import (
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accesstoken/bearer"
	echobearer "github.com/accesstoken/bearer/adapters/echo"
	"github.com/accesstoken/bearer/examples/internal/demo"
)

func main() { demo.Main("echo", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return demo.Run(ctx, "echo", args, stdout, stderr, func(v *bearer.Validator) http.Handler { return routes(v) })
}

func routes(v *bearer.Validator) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	// Every method: the handler answers 405 itself, where the guard of the
	// group below would answer 401.
	e.Any(demo.LogoutPath, echo.WrapHandler(v.LogoutHandler()))
	api := e.Group("", echobearer.New(v))
	api.GET("/values", func(c echo.Context) error {
		return c.JSON(http.StatusOK, demo.Values())
	})
	api.GET("/identity", func(c echo.Context) error {
		claims, _ := echobearer.Claims(c)
		return c.JSON(http.StatusOK, claims)
	})
	return e
}
