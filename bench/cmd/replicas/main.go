// Command replicas measures what sharing a Validator's state through Redis
// (stores/redis) costs and gives, against a real redis-server it starts on
// a free loopback port (Debian package redis-server):
//
//   - the cost of a cache hit, paired: the same token validated by a
//     Validator with the in-memory stores (baseline) and by one whose
//     RevocationStore and IntrospectionCache are a Redis Store, in alternating
//     batches, for a reference token (introspection answer cached) and a
//     JWT, with -revocations revocations in force, delivered through Redis
//     to the Redis-backed one and made locally on the other;
//   - the propagation time of a revocation: -n revocations made one after
//     another on replica 1, each timed until replicas 2 and 3 refuse a
//     token it matches; p50 and p99 over all.
//
// Run it from bench/:
//
//	go run ./cmd/replicas -rounds 400 -batch 500 -n 100
//
// Short batches and many rounds: on a busy machine a burst of another
// process then spoils few pairs, and the median ratio holds still.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/bench"
	"github.com/accesstoken/bearer/stores/redis"
)

func main() {
	rounds := flag.Int("rounds", 400, "paired rounds")
	batch := flag.Int("batch", 500, "validations per batch")
	n := flag.Int("n", 100, "revocations timed across replicas")
	revocations := flag.Int("revocations", 1000, "revocations in force during the paired runs, none matching the token")
	flag.Parse()
	log.SetFlags(0)

	url, stop, err := startRedis()
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	a := bearertest.NewAuthority()
	defer a.Close()
	ctx := context.Background()

	fmt.Printf("Paired runs: %d rounds of %d validations per batch, %d revocations in force; ratio = Redis-backed / in-memory, median [p25, p75].\n\n", *rounds, *batch, *revocations)
	fmt.Printf("| token | in-memory ns/op | Redis ns/op | ratio | ratio p25–p75 |\n|---|---:|---:|---:|---:|\n")
	memory := validator(ctx, a, nil)
	defer memory.Close()
	store := newStore(url)
	defer store.Close()
	shared := validator(ctx, a, store)
	defer shared.Close()
	for i := range *revocations {
		r := bearer.Revocation{SessionID: "other-" + strconv.Itoa(i)}
		// Queued if the Store has not connected yet: it holds here all the
		// same.
		if err := shared.Revoke(ctx, r); err != nil && !errors.Is(err, redis.ErrQueued) {
			log.Fatal(err)
		}
		must(memory.Revoke(ctx, r))
	}
	for _, tc := range []struct{ name, token string }{
		{"reference (introspected)", a.ReferenceToken(bench.Claims())},
		{"JWT", a.Token(bench.Claims())},
	} {
		paired(ctx, tc.name, tc.token, memory, shared, *rounds, *batch)
	}

	var replicas []*bearer.Validator
	for range 3 {
		s := newStore(url)
		defer s.Close()
		v := validator(ctx, a, s)
		defer v.Close()
		replicas = append(replicas, v)
	}
	// Once a first revocation went round, every replica is subscribed.
	propagate(ctx, a, replicas, "warm-up")
	var times []float64
	for i := range *n {
		times = append(times, propagate(ctx, a, replicas, "propagation-"+strconv.Itoa(i))...)
	}
	fmt.Printf("\nPropagation of a revocation from replica 1 to replicas 2 and 3 (%d revocations, %d times): p50 %.2f ms, p99 %.2f ms, max %.2f ms.\n",
		*n, len(times), bench.Quantile(times, 0.5), bench.Quantile(times, 0.99), bench.Quantile(times, 1))
}

// paired times batches of base and c validating token, alternately.
func paired(ctx context.Context, name, token string, base, c *bearer.Validator, rounds, batch int) {
	timeBatch := func(v *bearer.Validator) time.Duration {
		start := time.Now()
		for range batch {
			if _, err := v.Validate(ctx, token); err != nil {
				log.Fatalf("%s: %v", name, err)
			}
		}
		return time.Since(start)
	}
	timeBatch(base) // warm up: the introspection call, the caches
	timeBatch(c)
	var ratios, nsBase, nsC []float64
	for r := range rounds {
		var tb, tc time.Duration
		if r%2 == 0 {
			tb, tc = timeBatch(base), timeBatch(c)
		} else {
			tc, tb = timeBatch(c), timeBatch(base)
		}
		ratios = append(ratios, float64(tc)/float64(tb))
		nsBase = append(nsBase, float64(tb)/float64(batch))
		nsC = append(nsC, float64(tc)/float64(batch))
	}
	fmt.Printf("| %s | %.0f | %.0f | %.3f | %.3f–%.3f |\n", name, bench.Quantile(nsBase, 0.5), bench.Quantile(nsC, 0.5),
		bench.Quantile(ratios, 0.5), bench.Quantile(ratios, 0.25), bench.Quantile(ratios, 0.75))
}

func validator(ctx context.Context, a *bearertest.Authority, s *redis.Store) *bearer.Validator {
	cfg := bench.BearerConfig(bench.TargetOf(a, "RS256"))
	cfg.ClientID, cfg.ClientSecret = bearertest.DefaultClientID, bearertest.DefaultClientSecret
	if s != nil {
		cfg.RevocationStore, cfg.IntrospectionCache = s, s
	}
	v, err := bearer.New(ctx, cfg)
	must(err)
	ready, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	must(v.Ready(ready))
	return v
}

func newStore(url string) *redis.Store {
	s, err := redis.New(redis.Options{URL: url, Prefix: "bench", Logger: slog.New(slog.DiscardHandler)})
	must(err)
	return s
}

func revoked(ctx context.Context, v *bearer.Validator, token string) bool {
	_, err := v.Validate(ctx, token)
	if err != nil && !errors.Is(err, bearer.ErrRevoked) {
		log.Fatal(err)
	}
	return err != nil
}

// propagate revokes jti on replicas[0] and returns how long, in ms, each
// other replica took to refuse a token with it.
func propagate(ctx context.Context, a *bearertest.Authority, replicas []*bearer.Validator, jti string) []float64 {
	tok := a.Token(with("jti", jti))
	var times []float64
	start := time.Now()
	if err := replicas[0].Revoke(ctx, bearer.Revocation{TokenID: jti}); err != nil && !errors.Is(err, redis.ErrQueued) {
		log.Fatal(err)
	}
	for _, v := range replicas[1:] {
		for !revoked(ctx, v, tok) {
			if time.Since(start) > 30*time.Second {
				log.Fatalf("the revocation of %s did not propagate within 30 s", jti)
			}
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
	}
	return times
}

// with is bench.Claims with one claim more.
func with(name string, value any) bearertest.Payload {
	c := bench.Claims()
	c[name] = value
	return c
}

// startRedis runs redis-server on a free loopback port, without
// persistence, and waits until it accepts connections.
func startRedis() (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("redis-server (Debian package redis-server): %w", err)
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "redis://" + addr + "/0", stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
