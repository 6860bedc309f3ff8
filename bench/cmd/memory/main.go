// Command memory measures the heap the validated-token cache uses per
// token: it validates -n distinct tokens with the cache on (sized for n)
// and compares the live heap before and after, with a full GC each time.
// The tokens themselves are minted (ES256, for speed: the cache keeps a
// hash of the token and its claims, whose size does not depend on the
// algorithm) and held before the first measurement, so only what the
// validator keeps is counted.
//
//	go run ./cmd/memory -n 100000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"runtime"
	"sync"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/bench"
)

func main() {
	n := flag.Int("n", 100000, "distinct tokens to cache")
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()

	a := bearertest.NewAuthority()
	defer a.Close()
	t := bench.TargetOf(a, "ES256")
	v, err := bench.NewBearerValidator(ctx, t, true, *n)
	if errors.Is(err, bench.ErrNoCache) {
		fmt.Println("Memory per cached token: TODO(cache):", err)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	tokens := make([]string, *n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < *n; i += workers {
				tokens[i] = a.TokenWith("ES256", nil, bench.Claims())
			}
		}()
	}
	wg.Wait()
	// Warm the validator's own lazily built state on one extra token.
	if _, err := v.Validate(ctx, a.TokenWith("ES256", nil, bench.Claims())); err != nil {
		log.Fatal(err)
	}
	s0 := v.Status()

	before := liveHeap()
	for _, tok := range tokens {
		if _, err := v.Validate(ctx, tok); err != nil {
			log.Fatal(err)
		}
	}
	after := liveHeap()
	runtime.KeepAlive(tokens)

	// Every token must now be a hit, or the cache did not hold them all.
	for _, tok := range tokens {
		if _, err := v.Validate(ctx, tok); err != nil {
			log.Fatal(err)
		}
	}
	perToken := float64(after-before) / float64(*n)
	fmt.Printf("Memory per cached token: %d tokens, live heap %+.1f MiB, %.0f B/token (target ≤ 2048 B)\n",
		*n, float64(after-before)/(1<<20), perToken)
	s1 := v.Status()
	fmt.Printf("cache: %d misses while filling, %d hits on the second pass (want %d and %d)\n",
		s1.CacheMisses-s0.CacheMisses, s1.CacheHits-s0.CacheHits, *n, *n)
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
