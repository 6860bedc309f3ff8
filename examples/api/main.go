// Command api is the walkthrough's protected API: GET /values answers two
// random digits to a caller with a valid token, GET /identity echoes the
// token's claims, POST /signout revokes the caller's session, GET /healthz
// needs no token, GET /readyz says whether the authority's keys and the
// revocations in force are at hand, and POST /backchannel-logout is where
// the authority signs a user out (register it as the
// backchannel_logout_uri of the client -client-id names).
//
//	go run ./examples/api                      # embedded test authority
//	go run ./examples/api -authority https://login.example.com -audience api
//	go run ./examples/api -metrics prometheus  # OpenTelemetry metrics at GET /metrics
//
// With -ssf-transmitter it also receives OpenID Shared Signals (SSF 1.0,
// CAEP, RISC; docs/shared-signals.md): pushed to POST /ssf/events, or
// polled from -ssf-poll, each event revoking the tokens it names:
//
//	go run ./examples/api -authority https://login.example.com -audience api \
//		-ssf-transmitter https://login.example.com -ssf-audience https://api.example.com
//
// Several replicas on one Redis share one authority (docs/replicas.md):
//
//	go run ./examples/api -authority-only -addr 127.0.0.1:5400   # the test authority alone
//	go run ./examples/api -addr 127.0.0.1:5001 -authority http://127.0.0.1:5400 \
//		-client-id api -client-secret secret -redis redis://127.0.0.1:6379/0
//
// It is the whole setup of an API, in the order it happens, to copy: the
// Validator (bearer.New), the routes and their guard, a CORS layer in front
// of the guard, Ready, serving, and a graceful shutdown that closes the
// Validator last.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
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

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
	"github.com/accesstoken/bearer/signals"
	"github.com/accesstoken/bearer/stores/redis"
)

func main() {
	// SIGINT or SIGTERM ends ctx, and run shuts the server down gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

// run is the program without the process, so that tests can run it: it
// serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5000", "listen address `HOST:PORT`")
	authority := fs.String("authority", "", "issuer `URL` of the authority; empty starts an embedded test authority")
	authorityOnly := fs.Bool("authority-only", false, "serve only the embedded test authority, at -addr, and print a token: replicas started with -authority share it (docs/replicas.md)")
	audience := fs.String("audience", "", "accepted `aud` value (empty: not checked, scopes bind tokens to this API)")
	clientID := fs.String("client-id", "", "the API's client `ID` at the introspection endpoint")
	clientSecret := fs.String("client-secret", "", "the API's client `secret` at the introspection endpoint")
	scopes := fs.String("scopes", "api", "required scopes, space-separated, any of them `\"a b\"`")
	mode := fs.String("mode", "auto", "token validation: `auto|jwt|introspection`")
	corsOrigins := fs.String("cors-origins", "*", "allowed CORS origins, comma-separated, or * for any")
	leeway := fs.Duration("leeway", 0, "clock skew allowed on exp/nbf/iat (0: the library's default of 60s; negative: none)")
	redisURL := fs.String("redis", "", "share revocations, seen logout tokens and introspection answers with the other replicas through the Redis at `URL` (redis://[:password@]host:port/db, rediss:// for TLS)")
	metricsTo := fs.String("metrics", "", "export OpenTelemetry metrics: `stdout|prometheus` (at GET /metrics); empty: none")
	metricsInterval := fs.Duration("metrics-interval", time.Minute, "how often -metrics stdout exports")
	ssfTransmitter := fs.String("ssf-transmitter", "", "receive OpenID Shared Signals from the transmitter whose issuer is `URL`: SETs pushed to POST /ssf/events (docs/shared-signals.md)")
	ssfAudience := fs.String("ssf-audience", "", "with -ssf-transmitter: this API's `aud` in the stream's SETs")
	ssfPoll := fs.String("ssf-poll", "", "with -ssf-transmitter: poll the stream at `URL` (its delivery.endpoint_url) as well")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage: asking for it is no failure
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *ssfTransmitter == "" && (*ssfAudience != "" || *ssfPoll != "") {
		return errors.New("-ssf-audience and -ssf-poll go with -ssf-transmitter")
	}
	if *authorityOnly {
		if *authority != "" || *redisURL != "" || *metricsTo != "" || *ssfTransmitter != "" {
			return errors.New("-authority-only serves the test authority alone: -authority, -redis and -metrics are for the replicas")
		}
		return serveAuthority(ctx, *addr, *clientID, *clientSecret, *scopes, stdout)
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
	// The metrics go on until the Validator is closed: deferred first,
	// their shutdown runs last, and exports what the last requests did.
	m, err := newMetrics(*metricsTo, stdout, *metricsInterval)
	if err != nil {
		return err
	}
	defer m.shutdown(context.Background())
	if m.observer != nil {
		cfg.Observer = m.observer
	}
	// With -redis, the replicas share one truth: a revocation made on one
	// holds on all, and a token introspected by one is known to all. The
	// Store outlives the Validator: its Close is deferred first.
	if *redisURL != "" {
		store, err := redis.New(redis.Options{URL: *redisURL, Prefix: "api"})
		if err != nil {
			return err
		}
		defer store.Close()
		cfg.RevocationStore, cfg.IntrospectionCache = store, store
	}
	// New checks the configuration and returns at once; discovery runs in
	// the background. Close, deferred, runs after the server has shut down.
	v, err := bearer.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer v.Close()
	if m.observer != nil {
		m.observer.Watch(v)
	}
	// With -ssf-transmitter, the transmitter's events revoke tokens here
	// and, through -redis, on every replica. Its Close, deferred after
	// the Validator's, runs before it.
	var receiver *signals.Receiver
	if *ssfTransmitter != "" {
		receiver, err = receiveSignals(ctx, v, cfg.RevocationStore, cfg.Authority, *ssfTransmitter, *ssfAudience, *ssfPoll, stderr)
		if err != nil {
			return err
		}
		defer receiver.Close()
	}

	// Listen first, so that a bad -addr fails at once.
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Preflights carry no token: the CORS layer answers them in front of
	// the guards, which refuse every request without one.
	srv := &http.Server{
		Handler:           cors(*corsOrigins, routes(v, m.handler, receiver)),
		ReadHeaderTimeout: 10 * time.Second,
	}

	// Ready waits for the authority's metadata and keys and, with -redis,
	// for the revocations in force (at most Config.RevocationSyncTimeout).
	// An API may start while its authority is down (requests get 503 until
	// it answers), so a failure here is a warning; log.Fatal it to fail
	// fast instead.
	readyCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	if err := v.Ready(readyCtx); err != nil {
		fmt.Fprintf(stderr, "api: the authority is not answering yet, requests get 503 until it does: %v\n", err)
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

// routes is the API: every route and the guard in front of it, metrics,
// if given, at GET /metrics (serve them on an internal port in
// production: they are not for the API's clients), and the push endpoint
// of a Shared Signals receiver, if given, at POST /ssf/events.
func routes(v *bearer.Validator, metrics http.Handler, receiver *signals.Receiver) http.Handler {
	protect := middleware.New(v)
	mux := http.NewServeMux()
	mux.Handle("GET /values", protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, values())
	})))
	mux.Handle("GET /identity", protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := bearer.ClaimsFromContext(r.Context())
		writeJSON(w, claims)
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	// A readiness probe: Status never waits. Not ready means requests get
	// 503 until discovery succeeds, or, with -redis, that this replica has
	// not yet read the revocations in force, so would accept a token the
	// other replicas refuse: the load balancer sends it nothing meanwhile.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := v.Status()
		ready := st.Ready && st.RevocationsSynced
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		writeJSON(w, map[string]any{"ready": ready, "keys": st.Keys, "revocations_synced": st.RevocationsSynced, "introspection_failing": st.IntrospectionFailing})
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.Handle("POST /backchannel-logout", v.LogoutHandler())
	if receiver != nil {
		mux.Handle("POST /ssf/events", receiver)
	}
	mux.Handle("POST /signout", protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signOut(w, r, v)
	})))
	return mux
}

// signOut revokes the caller's session (sid), or, for a token without
// one, every token of its subject issued until now: 204 once every
// replica knows, 202 when it holds here and reaches the others only when
// Redis returns (see -redis), 503 if it could not be recorded.
func signOut(w http.ResponseWriter, r *http.Request, v *bearer.Validator) {
	claims, _ := bearer.ClaimsFromContext(r.Context())
	rev := bearer.Revocation{SessionID: claims.SessionID}
	if rev.SessionID == "" {
		rev.Subject = claims.Subject
	}
	switch err := v.Revoke(r.Context(), rev); {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, redis.ErrQueued):
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "sign-out not recorded, try again", http.StatusServiceUnavailable)
	}
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
// preflights itself. In an application of your own, github.com/rs/cors
// does the same.
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
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
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

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
