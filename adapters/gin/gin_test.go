package ginbearer_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/accesstoken/bearer"
	ginbearer "github.com/accesstoken/bearer/adapters/gin"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
)

func init() { gin.SetMode(gin.TestMode) }

func respond(c *gin.Context) {
	claims, _ := ginbearer.Claims(c)
	conformance.Respond(c.Writer, c.Request, claims)
}

// build mounts the guard the gin way: r.Use, a Group's handlers, or a
// route's handler chain.
func build(v *bearer.Validator, g conformance.Guard) http.Handler {
	r := gin.New()
	guard := ginbearer.New(v, g.Options()...)
	switch g.Scope {
	case conformance.Global:
		r.Use(guard)
		r.Any(conformance.GlobalPath, respond)
		return r
	case conformance.Group:
		r.Group(conformance.GroupPath, guard).Any("/*path", respond)
	case conformance.Route:
		r.Any(conformance.RoutePath, guard, respond)
	}
	r.Any(conformance.PublicPath, respond)
	r.Any(conformance.MetadataPath, gin.WrapH(conformance.Metadata(v)))
	return r
}

func TestConformance(t *testing.T) {
	conformance.RunHTTP(t, build)
}

// TestFormStaysReadable: the form the middleware
// parsed for FromForm is still readable the gin way.
func TestFormStaysReadable(t *testing.T) {
	env := conformance.NewEnv(t)
	r := gin.New()
	r.POST("/", ginbearer.New(env.OK, middleware.FromForm()), func(c *gin.Context) {
		claims, _ := ginbearer.Claims(c)
		c.String(http.StatusOK, "%s %s", claims.Subject, c.PostForm("x"))
	})
	srv := httptest.NewServer(r)
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

// TestRefusalStopsTheChain: no later handler runs after a refusal, and
// Claims reports false where New did not run.
func TestRefusalStopsTheChain(t *testing.T) {
	env := conformance.NewEnv(t)
	ran := false
	r := gin.New()
	r.GET("/guarded", ginbearer.New(env.OK, middleware.Logger(slog.New(slog.DiscardHandler))), func(c *gin.Context) { ran = true })
	r.GET("/open", func(c *gin.Context) {
		_, ok := ginbearer.Claims(c)
		c.String(http.StatusOK, "%v", ok)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	for path, want := range map[string]int{"/guarded": 401, "/open": 200} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || (path == "/open" && string(body) != "false") {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	if ran {
		t.Error("handler after a refusing guard ran")
	}
}
