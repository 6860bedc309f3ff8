// Package demo holds what the example APIs share: the command-line
// contract, the embedded test authority, the CORS policy and the
// walkthrough's values. Each example keeps only its framework's routing.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// LogoutPath is where every example API serves the back-channel logout
// endpoint (bearer.Validator.LogoutHandler), for POST.
const LogoutPath = "/backchannel-logout"

// Flags is the fixed command-line contract of every example API; other
// programs (the SPA, the end-to-end tests) drive them with it.
type Flags struct {
	Addr         string
	Authority    string
	Audience     string
	ClientID     string
	ClientSecret string
	Scopes       string
	Mode         string
	CORSOrigins  string
	Leeway       time.Duration
}

// ParseFlags reads the contract's flags from args.
func ParseFlags(name string, args []string, stderr io.Writer) (*Flags, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &Flags{}
	fs.StringVar(&f.Addr, "addr", "127.0.0.1:5000", "listen address `HOST:PORT`")
	fs.StringVar(&f.Authority, "authority", "", "issuer `URL` of the authority; empty starts an embedded test authority")
	fs.StringVar(&f.Audience, "audience", "", "accepted `aud` value (empty: not checked, scopes bind tokens to this API)")
	fs.StringVar(&f.ClientID, "client-id", "", "the API's client `ID` at the introspection endpoint")
	fs.StringVar(&f.ClientSecret, "client-secret", "", "the API's client `secret` at the introspection endpoint")
	fs.StringVar(&f.Scopes, "scopes", "api", "required scopes, space-separated, any of them `\"a b\"`")
	fs.StringVar(&f.Mode, "mode", "both", "token validation: `both|jwt|introspection`")
	fs.StringVar(&f.CORSOrigins, "cors-origins", "*", "allowed CORS origins, comma-separated, or * for any")
	fs.DurationVar(&f.Leeway, "leeway", 0, "clock skew allowed on exp/nbf/iat (0: the library's default of 60s; negative: none)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return f, nil
}

// Config turns the flags into a bearer.Config.
func (f *Flags) Config() (bearer.Config, error) {
	cfg := bearer.Config{
		Authority:      f.Authority,
		ClientID:       f.ClientID,
		ClientSecret:   f.ClientSecret,
		Leeway:         f.Leeway,
		RequiredScopes: bearer.AnyOf(strings.Fields(f.Scopes)...),
	}
	if f.Audience != "" {
		cfg.Audience = []string{f.Audience}
	}
	switch f.Mode {
	case "both":
		cfg.Mode = bearer.Both
	case "jwt":
		cfg.Mode = bearer.JWT
	case "introspection":
		cfg.Mode = bearer.Introspection
	default:
		return cfg, fmt.Errorf("-mode %q: want both, jwt or introspection", f.Mode)
	}
	return cfg, nil
}

// Start creates the Validator, first starting an embedded test authority
// when no -authority is given, and prints how to call the API. The
// returned stop function closes both.
func Start(ctx context.Context, f *Flags, out io.Writer) (v *bearer.Validator, stop func(), err error) {
	var embedded *bearertest.Authority
	if f.Authority == "" {
		embedded = bearertest.NewAuthority()
		f.Authority = embedded.Issuer()
		if f.ClientID == "" {
			f.ClientID, f.ClientSecret = bearertest.DefaultClientID, bearertest.DefaultClientSecret
		}
		embedded.SetClient(f.ClientID, f.ClientSecret)
		fmt.Fprintf(out, "embedded test authority at %s (use -authority for a real one)\n", embedded.URL)
	}
	cfg, err := f.Config()
	if err == nil {
		v, err = bearer.New(ctx, cfg)
	}
	if err != nil {
		if embedded != nil {
			embedded.Close()
		}
		return nil, nil, err
	}
	stop = func() {
		v.Close()
		if embedded != nil {
			embedded.Close()
		}
	}
	if embedded != nil {
		claims := bearertest.Claims{"scope": f.Scopes}
		if f.Audience != "" {
			claims["aud"] = f.Audience
		}
		fmt.Fprintf(out, "try:\n  curl -i -H \"Authorization: Bearer %s\" http://%s/values\n", embedded.Token(claims), f.Addr)
		if cfg.Mode != bearer.JWT {
			fmt.Fprintf(out, "or, with a reference token (introspected):\n  curl -i -H \"Authorization: Bearer %s\" http://%s/values\n", embedded.ReferenceToken(claims), f.Addr)
		}
	}
	return v, stop, nil
}

// CORS applies the allowed origins to every response, error responses
// included, so a browser app can read a 401 or 403 and its challenge.
func CORS(origins string, next http.Handler) http.Handler {
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

// Values returns the walkthrough's answer: two random digits as strings.
func Values() []string {
	digit := func() string {
		n, _ := rand.Int(rand.Reader, big.NewInt(10))
		return n.String()
	}
	return []string{digit(), digit()}
}

// Serve runs srv until ctx ends, then shuts it down gracefully.
func Serve(ctx context.Context, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
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

// Run is an example program's body: it parses the contract's flags, starts
// the Validator (and, without -authority, the embedded authority), and
// serves the routes routes builds, with the CORS policy, until ctx ends.
func Run(ctx context.Context, name string, args []string, stdout, stderr io.Writer, routes func(*bearer.Validator) http.Handler) error {
	f, err := ParseFlags(name, args, stderr)
	if err != nil {
		return err
	}
	v, stop, err := Start(ctx, f, stdout)
	if err != nil {
		return err
	}
	defer stop()
	srv := &http.Server{
		Addr:              f.Addr,
		Handler:           CORS(f.CORSOrigins, routes(v)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", f.Addr)
	return Serve(ctx, srv)
}

// Main runs run until SIGINT or SIGTERM and exits 1 on error.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		stop()
		os.Exit(1)
	}
}
