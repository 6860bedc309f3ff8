// Command paired measures each contender against its baseline in
// alternating short batches, which cancels most of the drift of a noisy
// machine (other processes, frequency changes) that separate benchmark
// runs suffer from.
//
// For every round and every contender it times a batch of -batch
// validations of the baseline and a batch of the contender, back to back
// (in alternating order from round to round), and keeps the ratio of the
// two. It reports, per contender, the median ratio over the rounds with
// its interquartile range, and the median ns/op. Baselines: the bare
// signature check for the JWT contenders (per algorithm), or the one
// -baseline names, the plain POST for the introspection contenders.
//
//	go run ./cmd/paired -rounds 40 -batch 200
//	go run ./cmd/paired -rounds 60 -batch 200 -contenders bearer-cold -introspection=false -clock thread
//	go run ./cmd/paired -baseline bearer-warm -contenders bearer-revoked -introspection=false
//	go run ./cmd/paired -baseline bearer-warm -contenders bearer-multi2-warm,bearer-multi100-warm -introspection=false
//	GOTOOLCHAIN=go1.27.3 go run ./cmd/paired -algs ML-DSA-65 -contenders bearer-cold -introspection=false
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/bench"
)

// clock is -clock: wall or thread.
var clock string

func main() {
	rounds := flag.Int("rounds", 40, "rounds: pairs of batches per contender")
	batch := flag.Int("batch", 200, "validations per batch")
	jwts := flag.Bool("jwt", true, "measure the JWT contenders against the bare signature check")
	intro := flag.Bool("introspection", true, "also measure the introspection contenders against a plain POST")
	only := flag.String("contenders", "", "JWT contenders to measure against the baseline, comma-separated; empty: all")
	baseline := flag.String("baseline", bench.Bare, "the JWT contender the others are measured against")
	flag.StringVar(&clock, "clock", "wall", "what a batch is timed by: wall (elapsed time) or thread (the measuring thread's CPU time, Linux only: steadier when other processes take the CPU)")
	algList := flag.String("algs", strings.Join(bench.Algorithms, ","), "the JWS algorithms of the JWT contenders, comma-separated (ML-DSA needs Go 1.27)")
	flag.Parse()
	switch {
	case clock == "thread" && !haveThreadCPU:
		log.Fatal("-clock thread: Linux only")
	case clock == "thread":
		runtime.LockOSThread()
	case clock != "wall":
		log.Fatalf("-clock %q: wall or thread", clock)
	}
	log.SetFlags(0)

	a := bearertest.NewAuthority()
	defer a.Close()
	ctx := context.Background()
	fmt.Printf("Paired runs: %d rounds of %d validations per batch, timed by the %s clock; ratio = contender / baseline, median [p25, p75].\n", *rounds, *batch, clock)
	algs := strings.Split(*algList, ",")
	if !*jwts {
		algs = nil
	}
	for _, alg := range algs {
		token := a.TokenWith(alg, nil, bench.Claims())
		var cs []*bench.Contender
		names := append([]string{*baseline}, slices.DeleteFunc(slices.Clone(bench.Names), func(n string) bool { return n == *baseline })...)
		if *only != "" {
			// As listed: they may name contenders outside bench.Names.
			names = append([]string{*baseline}, strings.Split(*only, ",")...)
		}
		for _, name := range names {
			c, err := bench.New(ctx, name, bench.TargetOf(a, alg), token)
			if err != nil {
				log.Fatal(err)
			}
			defer c.Close()
			cs = append(cs, c)
		}
		run(ctx, alg, token, cs, *rounds, *batch)
	}
	if *intro {
		token := a.ReferenceToken(bench.Claims())
		var cs []*bench.Contender
		for _, name := range bench.IntrospectionNames {
			c, err := bench.NewIntrospection(ctx, name, bench.EndpointOf(a), token)
			if err != nil {
				log.Fatal(err)
			}
			defer c.Close()
			cs = append(cs, c)
		}
		run(ctx, "introspection", token, cs, *rounds, *batch)
	}
}

// run pairs cs[1:] with the baseline cs[0] and prints a table.
func run(ctx context.Context, title, token string, cs []*bench.Contender, rounds, batch int) {
	base := cs[0]
	timeBatch := func(c *bench.Contender) time.Duration {
		start, cpu := time.Now(), threadCPU()
		for range batch {
			if err := c.Validate(ctx, token); err != nil {
				log.Fatalf("%s: %s: %v", title, c.Name, err)
			}
		}
		if clock == "thread" {
			return threadCPU() - cpu
		}
		return time.Since(start)
	}
	var active []*bench.Contender
	for _, c := range cs[1:] {
		if c.Pending == "" {
			active = append(active, c)
			timeBatch(c) // warm up
		}
	}
	timeBatch(base)
	ratios := make(map[string][]float64)
	nsop := make(map[string][]float64)
	for r := range rounds {
		for i := range active {
			c := active[(i+r)%len(active)] // rotate, so no contender always follows the same one
			var tb, tc time.Duration
			if r%2 == 0 {
				tb, tc = timeBatch(base), timeBatch(c)
			} else {
				tc, tb = timeBatch(c), timeBatch(base)
			}
			ratios[c.Name] = append(ratios[c.Name], float64(tc)/float64(tb))
			nsop[c.Name] = append(nsop[c.Name], float64(tc)/float64(batch))
			nsop[base.Name] = append(nsop[base.Name], float64(tb)/float64(batch))
		}
	}
	fmt.Printf("\n%s (baseline %s)\n\n", title, base.Name)
	fmt.Printf("| %-14s | %12s | %8s | %17s |\n", "contender", "ns/op", "ratio", "ratio p25–p75")
	fmt.Printf("|%s|%s:|%s:|%s:|\n", dashes(16), dashes(13), dashes(9), dashes(18))
	fmt.Printf("| %-14s | %12.0f | %8s | %17s |\n", base.Name, bench.Quantile(nsop[base.Name], 0.5), "1", "")
	for _, c := range cs[1:] {
		if c.Pending != "" {
			fmt.Printf("| %-14s | %12s | %8s | %17s |\n", c.Name, "TODO", "", "")
			continue
		}
		q := ratios[c.Name]
		fmt.Printf("| %-14s | %12.0f | %8.3f | %17s |\n", c.Name, bench.Quantile(nsop[c.Name], 0.5),
			bench.Quantile(q, 0.5), fmt.Sprintf("%.3f–%.3f", bench.Quantile(q, 0.25), bench.Quantile(q, 0.75)))
	}
	for _, c := range cs {
		if c.Pending != "" {
			fmt.Printf("\n%s skipped: %s\n", c.Name, c.Pending)
		}
	}
}

func dashes(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '-'
	}
	return string(b)
}
