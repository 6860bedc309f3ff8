// Command gin is examples/api written with gin: the same flags, routes and
// behaviour. GET /values answers two random digits to a caller with a
// valid token, GET /identity echoes the token's claims, GET /healthz needs
// no token, POST /backchannel-logout signs a user out.
//
//	go run ./examples/gin                      # embedded test authority
//	go run ./examples/gin -authority https://login.example.com -audience api
//
// It is the whole setup of an API, in the order it happens, to copy: the
// Validator (bearer.New), the routes and their guard, a CORS layer in front
// of the guard, Ready, serving, and a graceful shutdown that closes the
// Validator last.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/accesstoken/bearer"
	ginbearer "github.com/accesstoken/bearer/adapters/gin"
	"github.com/accesstoken/bearer/bearertest"
)

func main() {
	// SIGINT or SIGTERM ends ctx, and run shuts the server down gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gin:", err)
		os.Exit(1)
	}
}

// run is the program without the process, so that tests can run it: it
// serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5000", "listen address `HOST:PORT`")
	authority := fs.String("authority", "", "issuer `URL` of the authority; empty starts an embedded test authority")
	audience := fs.String("audience", "", "accepted `aud` value (empty: not checked, scopes bind tokens to this API)")
	clientID := fs.String("client-id", "", "the API's client `ID` at the introspection endpoint")
	clientSecret := fs.String("client-secret", "", "the API's client `secret` at the introspection endpoint")
	scopes := fs.String("scopes", "api", "required scopes, space-separated, any of them `\"a b\"`")
	mode := fs.String("mode", "auto", "token validation: `auto|jwt|introspection`")
	corsOrigins := fs.String("cors-origins", "*", "allowed CORS origins, comma-separated, or * for any")
	leeway := fs.Duration("leeway", 0, "clock skew allowed on exp/nbf/iat (0: the library's default of 60s; negative: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage: asking for it is no failure
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	// Without -authority, an authority of our own on loopback issues the
	// tokens, so that the program runs with nothing else installed.
	var embedded *bearertest.Authority
	if *authority == "" {
		embedded = bearertest.NewAuthority()
		defer embedded.Close()
		*authority = embedded.Issuer()
		if *clientID == "" {
			*clientID, *clientSecret = bearertest.DefaultClientID, bearertest.DefaultClientSecret
		}
		embedded.SetClient(*clientID, *clientSecret)
	}

	cfg := bearer.Config{
		Authority:      *authority,
		RequiredScopes: bearer.AnyOf(strings.Fields(*scopes)...),
		ClientID:       *clientID, // turns introspection of reference tokens on
		ClientSecret:   *clientSecret,
		Leeway:         *leeway,
	}
	if *audience != "" {
		cfg.Audience = []string{*audience}
	}
	switch *mode {
	case "auto":
		cfg.Mode = bearer.ModeAuto
	case "jwt":
		cfg.Mode = bearer.ModeJWT
	case "introspection":
		cfg.Mode = bearer.ModeIntrospection
	default:
		return fmt.Errorf("-mode %q: want auto, jwt or introspection", *mode)
	}
	// New checks the configuration and returns at once; discovery runs in
	// the background. Close, deferred, runs after the server has shut down.
	v, err := bearer.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer v.Close()

	// Listen first, so that a bad -addr fails at once.
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Preflights carry no token: the CORS layer answers them in front of
	// the guards, which refuse every request without one.
	srv := &http.Server{
		Handler:           cors(*corsOrigins, routes(v)),
		ReadHeaderTimeout: 10 * time.Second,
	}

	// Ready waits for the authority's metadata and keys. An API may start
	// while its authority is down (requests get 503 until it answers), so
	// a failure here is a warning; log.Fatal it to fail fast instead.
	readyCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := v.Ready(readyCtx); err != nil {
		fmt.Fprintf(stderr, "gin: the authority is not answering yet, requests get 503 until it does: %v\n", err)
	}
	cancel()

	// The address bound, which -addr :0 lets the system choose.
	bound := l.Addr().String()
	if embedded != nil {
		printTryLines(stdout, embedded, cfg, *scopes, *audience, bound)
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", bound)
	return serve(ctx, srv, l)
}

// routes is the API: every route and the guard in front of it.
func routes(v *bearer.Validator) *gin.Engine {
	gin.SetMode(gin.ReleaseMode) // no route dump on stdout, which prints the curl line
	r := gin.New()
	r.Use(gin.Recovery())
	r.HandleMethodNotAllowed = true // 405 like net/http's ServeMux
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.POST("/backchannel-logout", gin.WrapH(v.LogoutHandler()))
	api := r.Group("/", ginbearer.New(v))
	api.GET("/values", func(c *gin.Context) {
		c.JSON(http.StatusOK, values())
	})
	api.GET("/identity", func(c *gin.Context) {
		claims, _ := ginbearer.Claims(c)
		c.JSON(http.StatusOK, claims)
	})
	return r
}

// serve runs srv on l until ctx ends, then shuts it down gracefully:
// requests under way finish, new connections are refused.
func serve(ctx context.Context, srv *http.Server, l net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cors lets the allowed origins read every response, refusals included,
// so that a browser app sees a 401 and its challenge, and answers
// preflights itself. It wraps the whole router, so that it runs before
// gin routes anything. In an application of your own, github.com/gin-contrib/cors does the same.
func cors(origins string, next http.Handler) http.Handler {
	allowed := strings.Split(origins, ",")
	for i := range allowed {
		allowed[i] = strings.TrimSpace(allowed[i])
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && (slices.Contains(allowed, "*") || slices.Contains(allowed, origin)) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// printTryLines shows how to call the API with tokens of the embedded
// authority: curl lines, and the bearer command's view of the same tokens.
func printTryLines(out io.Writer, a *bearertest.Authority, cfg bearer.Config, scopes, audience, addr string) {
	claims := bearertest.Payload{"scope": scopes}
	aud := "-scopes " + quote(scopes)
	if audience != "" {
		claims["aud"] = audience
		aud = "-audience " + audience
	}
	jwt := a.Token(claims)
	fmt.Fprintf(out, "embedded test authority at %s (use -authority for a real one)\n", a.URL)
	fmt.Fprintf(out, "  the API's client at its introspection endpoint: id %q, secret %q\n", cfg.ClientID, cfg.ClientSecret)
	fmt.Fprintf(out, "try:\n  curl -i -H \"Authorization: Bearer %s\" http://%s/values\n", jwt, addr)
	// Built once, not go run: go run exits 1 whatever the command's
	// exit status (docs/cli.md).
	fmt.Fprintf(out, "  %s\n", buildBearer)
	fmt.Fprintf(out, "  ./bearer validate -authority %s %s %s\n", a.Issuer(), aud, jwt)
	if cfg.Mode != bearer.ModeJWT {
		ref := a.ReferenceToken(claims)
		fmt.Fprintf(out, "or, with a reference token (introspected):\n  curl -i -H \"Authorization: Bearer %s\" http://%s/values\n", ref, addr)
		fmt.Fprintf(out, "  BEARER_CLIENT_SECRET=%s ./bearer introspect -authority %s -client-id %s %s\n", quote(cfg.ClientSecret), a.Issuer(), quote(cfg.ClientID), ref)
	}
}

// buildBearer builds the bearer command once, in the repository's root.
const buildBearer = `go build -o bearer ./cmd/bearer   # once, at the repository's root: "go run" would exit 1 for every failure`

// quote makes s one shell word.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// values is the walkthrough's answer: two random digits as strings.
func values() []string {
	digit := func() string {
		n, _ := rand.Int(rand.Reader, big.NewInt(10))
		return n.String()
	}
	return []string{digit(), digit()}
}
