package echobearer_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/accesstoken/bearer"
	echobearer "github.com/accesstoken/bearer/adapters/echo"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
	bearermw "github.com/accesstoken/bearer/middleware"
)

func respond(c echo.Context) error {
	claims, _ := echobearer.Claims(c)
	conformance.Respond(c.Response(), c.Request(), claims)
	return nil
}

// build mounts the guard the echo way: e.Use, a Group's middleware, or a
// route's middleware.
func build(v *bearer.Validator, g conformance.Guard) http.Handler {
	e := echo.New()
	guard := echobearer.New(v, g.Options()...)
	switch g.Scope {
	case conformance.Global:
		e.Use(guard)
		e.Any(conformance.GlobalPath, respond)
		return e
	case conformance.Group:
		e.Group(conformance.GroupPath, guard).Any("/*", respond)
	case conformance.Route:
		e.Any(conformance.RoutePath, respond, guard)
	}
	e.Any(conformance.PublicPath, respond)
	e.Any(conformance.MetadataPath, echo.WrapHandler(conformance.Metadata(v)))
	return e
}

func TestConformance(t *testing.T) {
	conformance.RunHTTP(t, build)
}

// TestFormStaysReadable: the form the middleware parsed for FromForm is
// still readable the echo way.
func TestFormStaysReadable(t *testing.T) {
	env := conformance.NewEnv(t)
	e := echo.New()
	e.POST("/", func(c echo.Context) error {
		claims, _ := echobearer.Claims(c)
		return c.String(http.StatusOK, claims.Subject+" "+c.FormValue("x"))
	}, echobearer.New(env.OK, bearermw.FromForm()))
	srv := httptest.NewServer(e)
	defer srv.Close()
	token := env.Authority.Token(bearertest.Payload{"aud": "api"})
	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("x=42&access_token="+token))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "alice 42" {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}

// TestErrors: refusals are written as the net/http middleware writes them,
// not through echo's HTTPErrorHandler, while errors of the handlers after
// the guard still reach it. Claims reports false where New did not run.
func TestErrors(t *testing.T) {
	env := conformance.NewEnv(t)
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		_ = c.String(http.StatusTeapot, "handled: "+err.Error())
	}
	guard := echobearer.New(env.OK, bearermw.Logger(slog.New(slog.DiscardHandler)))
	e.GET("/guarded", func(c echo.Context) error { return errors.New("boom") }, guard)
	e.GET("/open", func(c echo.Context) error {
		_, ok := echobearer.Claims(c)
		return c.String(http.StatusOK, strconv.FormatBool(ok))
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	token := env.Authority.Token(bearertest.Payload{"aud": "api"})
	for _, tc := range []struct {
		path, token string
		status      int
		body        string
	}{
		{"/guarded", "", 401, `{"error_description":"no access token"}` + "\n"},
		{"/guarded", token, 418, "handled: boom"},
		{"/open", "", 200, "false"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(body) != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
}
