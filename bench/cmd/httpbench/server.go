package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync/atomic"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"

	"github.com/accesstoken/bearer/bench"
	"github.com/accesstoken/bearer/middleware"
)

// Handlers, in the order they are reported. Bare is the baseline.
const (
	hBare       = "bare"        // no authentication at all
	hFloor      = "floor"       // the hand-written floor behind a three-line extractor
	hGolangJWT  = "golang-jwt"  // golang-jwt/v5 + keyfunc/v3 behind the same extractor
	hAuth0      = "auth0"       // auth0/go-jwt-middleware/v2's middleware and validator
	hBearerCold = "bearer-cold" // this library's middleware, validated-token cache off
	hBearerWarm = "bearer-warm" // this library's middleware, validated-token cache on
	// hContext validates nothing: it hands a value on in the request's
	// context, as every middleware that passes claims to the handler
	// does, so that it measures what net/http charges for that
	// (r.WithContext's copy of the request, the context's node): the
	// floor of a middleware under bearer-warm. Not in the default set;
	// name it with -paired or -handlers.
	hContext = "context"
	// hSpin is hContext with arithmetic before it, spinFor long in
	// process, about what bearer-warm's middleware takes in process
	// beyond hContext's work: what that much CPU costs in this server
	// when it touches no memory. Not in the default set either.
	hSpin = "context-spin"
)

// spinFor is hSpin's arithmetic per request: BenchmarkMiddleware's
// bearer-warm request (0.7–0.8 µs) less the context hand-off's share.
const spinFor = 600 * time.Nanosecond

var handlerNames = []string{hBare, hFloor, hGolangJWT, hAuth0, hBearerCold, hBearerWarm}

// ok is what every handler answers once the request is admitted.
var ok = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
})

// protect returns the handler named name in front of ok, and a function
// reporting the validated-token cache's counters (nil if none).
func protect(ctx context.Context, name string, t bench.Target, token string) (http.Handler, func() any, error) {
	switch name {
	case hBare:
		return ok, nil, nil
	case hContext:
		return withContext(ok), nil, nil
	case hSpin:
		return withContext(spinning(ok, calibrate(spinFor))), nil, nil
	case hFloor, hGolangJWT:
		c, err := bench.New(ctx, name, t, token)
		if err != nil {
			return nil, nil, err
		}
		return withContender(c), nil, nil
	case hAuth0:
		v, err := bench.NewAuth0Validator(t)
		if err != nil {
			return nil, nil, err
		}
		if _, err := v.ValidateToken(ctx, token); err != nil { // fetch the keys now
			return nil, nil, err
		}
		return jwtmiddleware.New(v.ValidateToken).CheckJWT(ok), nil, nil
	case hBearerCold, hBearerWarm:
		v, err := bench.NewBearerValidator(ctx, t, name == hBearerWarm, 0)
		if err != nil {
			return nil, nil, err
		}
		if _, err := v.Validate(ctx, token); err != nil {
			return nil, nil, err
		}
		stats := func() any {
			s := v.Status()
			return map[string]uint64{"hits": s.CacheHits, "misses": s.CacheMisses, "entries": uint64(s.CacheEntries)}
		}
		return middleware.New(v)(ok), stats, nil
	}
	return nil, nil, fmt.Errorf("unknown handler %q", name)
}

// withContender admits requests whose bearer token c validates.
func withContender(c *bench.Contender) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found || c.Validate(r.Context(), token) != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ok.ServeHTTP(w, r)
	})
}

// withContext answers 401 to a request without an Authorization field,
// and hands the others on to next with a value in their context: one
// made once, as if every request's claims came from a cache uncopied.
func withContext(next http.Handler) http.Handler {
	type key struct{}
	claims := &struct{ sub string }{"alice"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, claims)))
	})
}

// sink keeps the arithmetic from being optimised away.
var sink atomic.Uint64

// spin does n rounds of xorshift, in registers.
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// calibrate returns the rounds of spin that take d on this machine: the
// fastest of a few timed batches, so that a busy moment does not make it
// spin less.
func calibrate(d time.Duration) int {
	const batch = 1 << 22
	best := time.Duration(1<<63 - 1)
	for range 5 {
		start := time.Now()
		sink.Store(spin(batch))
		best = min(best, time.Since(start))
	}
	return max(1, int(float64(batch)*float64(d)/float64(best)))
}

// spinning does n rounds of spin, then hands the request on to next.
func spinning(next http.Handler, n int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sink.Store(spin(n))
		next.ServeHTTP(w, r)
	})
}

// serve runs the server role: it builds the handler, listens on a
// loopback port, prints "listening ADDR" and serves until killed. The
// handler is at every path but /stats, which is unprotected and reports
// the process's CPU time and the cache's counters.
func serve(name string, t bench.Target, tokenFile string) {
	ctx := context.Background()
	token, err := readFirstToken(tokenFile)
	if err != nil {
		log.Fatal(err)
	}
	h, stats, err := protect(ctx, name, t, token)
	if errors.Is(err, bench.ErrNoCache) {
		fmt.Println("pending TODO(cache):", err)
		return
	}
	if err != nil {
		log.Fatalf("server %s: %v", name, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening", l.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(l, newMux(h, stats)))
}

// newMux serves h at every path but /stats, which reports the process's
// CPU time and, if stats is not nil, the cache's counters, and
// /debug/pprof/profile, the CPU profile (for -profile).
func newMux(h http.Handler, stats func() any) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		s := map[string]any{"cpu": cpuTime().Seconds()}
		if stats != nil {
			s["cache"] = stats()
		}
		_ = json.NewEncoder(w).Encode(s)
	})
	return mux
}
