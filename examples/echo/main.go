// Command echo is examples/api written with echo: the same flags, routes
// and behaviour. GET /values answers two random digits to a caller with a
// valid token, GET /identity echoes the token's claims, GET /healthz needs
// no token.
//
//	go run ./examples/echo                      # embedded test authority
//	go run ./examples/echo -authority https://login.example.com -audience api
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accesstoken/bearer"
	echobearer "github.com/accesstoken/bearer/adapters/echo"
	"github.com/accesstoken/bearer/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := demo.ParseFlags("echo", args, stderr)
	if err != nil {
		return err
	}
	v, closeValidator, err := demo.Start(ctx, f, stdout)
	if err != nil {
		return err
	}
	defer closeValidator()
	srv := &http.Server{
		Addr:              f.Addr,
		Handler:           demo.CORS(f.CORSOrigins, routes(v)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", f.Addr)
	return demo.Serve(ctx, srv)
}

func routes(v *bearer.Validator) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
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
