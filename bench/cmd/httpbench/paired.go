package main

import (
	"fmt"
	"log"
	"path/filepath"
	"time"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/bench"
)

// pairedConfig is the unique-token scenario in paired form: every handler
// keeps one server for the whole run, first gets fill tokens (so that a
// validated-token cache is as in a server that has had one-use tokens for
// a while: the core's fills up, then empties once its admission turns
// choosy), then rounds of batch fresh tokens, the handlers taking
// turns in an order that rotates every round. Sequential runs of a few
// seconds drift apart on a shared machine by more than the few per cent
// this scenario is about; batches of a fraction of a second, compared
// within their round, do not.
type pairedConfig struct {
	handlers []string // the first is the baseline
	fill     int
	rounds   int
	batch    int
}

// pairedRound is what one round measured, by handler.
type pairedRound map[string]*result

// runPaired mints the tokens, runs the rounds and reports.
func (d *driver) runPaired(cfg pairedConfig) {
	if len(cfg.handlers) < 2 {
		log.Fatal("httpbench: -paired needs a baseline and at least one other handler")
	}
	a := bearertest.NewAuthority()
	defer a.Close()
	d.target = bench.TargetOf(a, "RS256")
	start := time.Now()
	tokens := mint(a, 1+cfg.fill+cfg.rounds*cfg.batch)
	log.Printf("httpbench: minted %d RS256 tokens in %v", len(tokens), time.Since(start).Round(time.Millisecond))
	writeTokens(filepath.Join(d.dir, "one"), tokens[:1])
	tokens = tokens[1:]
	if cfg.fill > 0 {
		writeTokens(filepath.Join(d.dir, "fill"), tokens[:cfg.fill])
	}
	for r := range cfg.rounds {
		first := cfg.fill + r*cfg.batch
		writeTokens(filepath.Join(d.dir, roundName(r)), tokens[first:first+cfg.batch])
	}

	addrs := make(map[string]string)
	for _, h := range cfg.handlers {
		addr, stop, err := d.startServer(h)
		if err != nil {
			log.Fatalf("httpbench: %s: %v", h, err)
		}
		defer stop()
		addrs[h] = addr
		if cfg.fill > 0 {
			// As long as the measured rounds, so the fill is one long
			// unmeasured window.
			if _, err := d.load(addr, scenario{file: "fill", once: true}, 0, time.Hour); err != nil {
				log.Fatalf("httpbench: %s, fill: %v", h, err)
			}
		}
	}
	rounds := make([]pairedRound, cfg.rounds)
	for r := range rounds {
		rounds[r] = make(pairedRound)
		for i := range cfg.handlers {
			h := cfg.handlers[(i+r)%len(cfg.handlers)]
			res, err := d.load(addrs[h], scenario{file: roundName(r), once: true}, 0, time.Hour)
			if err != nil {
				log.Fatalf("httpbench: %s, round %d: %v", h, r, err)
			}
			rounds[r][h] = res
		}
	}
	fmt.Printf("HTTP, unique tokens, paired: one server per handler (CPU %s), load on CPU %s, %d keep-alive connections; "+
		"%d tokens each first to fill caches, then %d rounds of %d new tokens, the handlers in turn in a rotating order. "+
		"Ratio = handler ÷ %s in the same round; median [p25, p75] over rounds.\n\n",
		orAny(d.serverCPU), orAny(d.loadCPU), d.conns, cfg.fill, cfg.rounds, cfg.batch, cfg.handlers[0])
	reportPaired(cfg.handlers, rounds)
}

// runPairedWindows runs the one-token or the cycling scenario (s) in
// rounds: in each, every handler in a rotating order gets a fresh server
// and one window of d.duration, as in the sequential run; but the windows
// to compare are adjacent, and the median over rounds resists a window
// that the host starved.
func (d *driver) runPairedWindows(handlers []string, s scenario, cycle, rounds int) {
	if len(handlers) < 2 {
		log.Fatal("httpbench: -paired needs a baseline and at least one other handler")
	}
	a := bearertest.NewAuthority()
	defer a.Close()
	d.target = bench.TargetOf(a, "RS256")
	tokens := mint(a, 1+cycle)
	writeTokens(filepath.Join(d.dir, "one"), tokens[:1])
	writeTokens(filepath.Join(d.dir, "cycle"), tokens[1:])
	results := make([]pairedRound, rounds)
	for r := range results {
		results[r] = make(pairedRound)
		for i := range handlers {
			h := handlers[(i+r)%len(handlers)]
			res, err := d.measure(h, s)
			if err != nil {
				log.Fatalf("httpbench: %s, round %d: %v", h, r, err)
			}
			results[r][h] = res
		}
	}
	fmt.Printf("HTTP, %s, paired: %d rounds; in each, every handler in a rotating order gets a fresh server (CPU %s) and %v measured after %v of warm-up, "+
		"load on CPU %s, %d keep-alive connections. Ratio = handler ÷ %s in the same round; median [p25, p75] over rounds.\n\n",
		s.name, rounds, orAny(d.serverCPU), d.duration, d.warmup, orAny(d.loadCPU), d.conns, handlers[0])
	reportPaired(handlers, results)
}

// roundName is the token file of paired round r.
func roundName(r int) string { return fmt.Sprintf("round%d", r) }

// reportPaired prints, for each handler, the median server CPU time per
// request and throughput, and the median and quartiles of its per-round
// ratios to the baseline.
func reportPaired(handlers []string, rounds []pairedRound) {
	base := handlers[0]
	fmt.Println("| handler | server CPU µs/request | × " + base + " | req/s | × " + base + " | cache hits / misses, entries at the end |")
	fmt.Println("|---|---:|---:|---:|---:|---|")
	for _, h := range handlers {
		var cost, rps, costRatio, rpsRatio []float64
		var hits, misses, entries int64
		cached := false
		for _, round := range rounds {
			r, b := round[h], round[base]
			cost = append(cost, cpuPerRequest(r))
			rps = append(rps, float64(r.Requests)/r.Seconds)
			costRatio = append(costRatio, cpuPerRequest(r)/cpuPerRequest(b))
			rpsRatio = append(rpsRatio, (float64(r.Requests)/r.Seconds)/(float64(b.Requests)/b.Seconds))
			if r.Hits != nil {
				cached = true
				hits += *r.Hits
				misses += *r.Misses
				entries = *r.Entries
			}
		}
		cache := "–"
		if cached {
			cache = fmt.Sprintf("%d / %d, %d", hits, misses, entries)
		}
		fmt.Printf("| %s | %.1f | %s | %.0f | %s | %s |\n", h,
			bench.Quantile(cost, 0.5), spread(costRatio), bench.Quantile(rps, 0.5), spread(rpsRatio), cache)
	}
}

// cpuPerRequest is the server's CPU time per request in µs.
func cpuPerRequest(r *result) float64 {
	return r.ServerCPU * r.Seconds / float64(r.Requests) * 1e6
}

// spread formats the median and quartiles of xs.
func spread(xs []float64) string {
	return fmt.Sprintf("%.3f [%.3f, %.3f]", bench.Quantile(xs, 0.5), bench.Quantile(xs, 0.25), bench.Quantile(xs, 0.75))
}

func orAny(cpus string) string {
	if cpus == "" {
		return "any"
	}
	return cpus
}
