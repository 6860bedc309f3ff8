// Command gin is examples/api written with gin: the same flags, routes and
// behaviour. GET /values answers two random digits to a caller with a
// valid token, GET /identity echoes the token's claims, GET /healthz needs
// no token, POST /backchannel-logout signs a user out.
//
//	go run ./examples/gin                      # embedded test authority
//	go run ./examples/gin -authority https://login.example.com -audience api
package main

import (
	"context"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/accesstoken/bearer"
	ginbearer "github.com/accesstoken/bearer/adapters/gin"
	"github.com/accesstoken/bearer/examples/internal/demo"
)

func main() { demo.Main("gin", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return demo.Run(ctx, "gin", args, stdout, stderr, func(v *bearer.Validator) http.Handler { return routes(v) })
}

func routes(v *bearer.Validator) *gin.Engine {
	gin.SetMode(gin.ReleaseMode) // no route dump on stdout, which prints the curl line
	r := gin.New()
	r.Use(gin.Recovery())
	r.HandleMethodNotAllowed = true // 405 like net/http's ServeMux
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.POST(demo.LogoutPath, gin.WrapH(v.LogoutHandler()))
	api := r.Group("/", ginbearer.New(v))
	api.GET("/values", func(c *gin.Context) {
		c.JSON(http.StatusOK, demo.Values())
	})
	api.GET("/identity", func(c *gin.Context) {
		claims, _ := ginbearer.Claims(c)
		c.JSON(http.StatusOK, claims)
	})
	return r
}
