// Command httpbench measures HTTP throughput on loopback: a bare handler
// against the same handler behind this library's middleware, auth0's
// middleware, golang-jwt and the hand-written floor, with the server and
// the load generator in separate processes pinned to different cores.
//
// Run without flags it is the driver: it starts a bearertest authority,
// mints RS256 tokens, and for every handler and scenario starts a fresh
// server process (taskset -c 0) and a load process (taskset -c 1), both
// this same binary in another role. Scenarios: one token repeated,
// 10 000 distinct tokens cycling (each sent once in the warm-up), and
// unique tokens (each sent once, so a cache cannot help). It prints
// requests/s and the ratio to the bare handler, then the CPU each side
// used during the measured window.
//
//	go run ./cmd/httpbench -duration 3s
//
// With -paired it runs only the unique-token scenario, for the handlers
// it names, in rounds that alternate them (see pairedConfig): the way to
// compare handlers a few per cent apart on a shared machine.
//
//	go run ./cmd/httpbench -paired floor,bearer-cold,bearer-warm
//
// -paired-scenario one or cycle does the same for the other two
// scenarios, a fresh server and a full window per handler and round. The
// cycling tokens are each sent once in the warm-up, so the window shows
// a server that has seen them all, as an API that has run for a while
// has; cycle-first leaves their first sight in the window instead:
//
//	go run ./cmd/httpbench -paired bare,bearer-warm -paired-scenario cycle -rounds 6 -duration 10s
//
// -profile DIR writes each fresh server's CPU profile over its measured
// window to DIR (HANDLER-SCENARIO.pprof; with several rounds, the last
// round's), for go tool pprof: where a handler's time goes beside the
// bare handler's. It does not apply to the long-lived servers of the
// unique-token paired mode.
//
//	go run ./cmd/httpbench -paired bare,bearer-warm -paired-scenario cycle -rounds 1 -duration 8s -profile /tmp/prof
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/bench"
)

// scenario is a set of tokens and how to send them.
type scenario struct {
	name string
	file string // in the token directory
	once bool   // each token once; otherwise cycle for the duration
	warm string // the load's warm-up tokens, in the token directory; "" is "one"
}

// cycling is the scenario of n tokens sent in turn to a server that has
// seen each once in the warm-up: the steady state of an API whose clients
// keep their tokens, where a token's first sight is one request of the
// many it serves.
func cycling(n int) scenario {
	return scenario{name: fmt.Sprintf("%d cycling", n), file: "cycle", warm: "cycle"}
}

func main() {
	role := flag.String("role", "driver", "driver, server or load (the latter two are started by the driver)")
	duration := flag.Duration("duration", 3*time.Second, "measured time per scenario")
	warmup := flag.Duration("warmup", time.Second, "warm-up time before each measurement, with the one token or, for the cycling scenario, until each cycling token has been sent once")
	conns := flag.Int("conns", 16, "keep-alive connections")
	cycle := flag.Int("cycle", 10000, "distinct tokens in the cycling scenario")
	unique := flag.Int("unique", 20000, "tokens in the unique scenario, each sent once (the window ends early when they run out)")
	handlers := flag.String("handlers", strings.Join(handlerNames, ","), "handlers to measure, comma-separated")
	paired := flag.String("paired", "", "instead: the unique-token scenario in paired rounds for these handlers, the first the baseline (e.g. floor,bearer-warm)")
	fill := flag.Int("fill", 3*defaultCacheSize, "paired: tokens each server gets before the rounds, enough for a cache to settle as under one-use tokens for long")
	rounds := flag.Int("rounds", 20, "paired: rounds")
	batch := flag.Int("batch", 1000, "paired: new tokens per handler and round")
	pairedScenario := flag.String("paired-scenario", "unique", "paired: unique, one (one token repeated), cycle (-cycle tokens cycling, each sent once in the warm-up: a server that has seen them all) or cycle-first (cycle with each token's first sight in the window); all but unique take a fresh server and a -duration window per handler and round")
	serverCPU := flag.String("server-cpu", "0", "taskset CPU list for the server; empty: no pinning")
	loadCPU := flag.String("load-cpu", "1", "taskset CPU list for the load generator; empty: no pinning")
	profile := flag.String("profile", "", "directory for a CPU profile of each server's measured window (HANDLER-SCENARIO.pprof); empty: none")
	// Server and load roles.
	handler := flag.String("handler", "", "server: the handler to serve")
	issuer := flag.String("issuer", "", "server: the authority's issuer")
	jwksURL := flag.String("jwks", "", "server: the authority's JWKS URL")
	kid := flag.String("kid", "", "server: the signing key's kid")
	addr := flag.String("addr", "", "load: the server's address")
	warmFile := flag.String("warm-tokens", "", "server: file whose first line is the warm-up token; load: file of warm-up tokens, each sent at least once")
	tokens := flag.String("tokens", "", "load: file of tokens, one a line")
	once := flag.Bool("once", false, "load: send each token once")
	flag.Parse()
	log.SetFlags(0)

	switch *role {
	case "server":
		serve(*handler, bench.Target{Issuer: *issuer, JWKSURL: *jwksURL, Alg: "RS256", KeyID: *kid}, *warmFile)
	case "load":
		runLoad(loadConfig{addr: *addr, conns: *conns, warmup: *warmup, duration: *duration, once: *once}, *warmFile, *tokens)
	case "driver":
		if err := checkProfile(*profile, *paired, *pairedScenario, *duration); err != nil {
			log.Fatal("httpbench: ", err)
		}
		d := &driver{
			duration: *duration, warmup: *warmup, conns: *conns,
			serverCPU: *serverCPU, loadCPU: *loadCPU, profile: *profile,
		}
		cleanup := d.setup()
		defer cleanup()
		if *paired != "" {
			handlers := strings.Split(*paired, ",")
			switch *pairedScenario {
			case "unique":
				d.runPaired(pairedConfig{handlers: handlers, fill: *fill, rounds: *rounds, batch: *batch})
			case "one":
				d.runPairedWindows(handlers, scenario{name: "one token", file: "one"}, *cycle, *rounds)
			case "cycle":
				d.runPairedWindows(handlers, cycling(*cycle), *cycle, *rounds)
			case "cycle-first":
				d.runPairedWindows(handlers, scenario{name: fmt.Sprintf("%d cycling, first seen in the window", *cycle), file: "cycle"}, *cycle, *rounds)
			default:
				log.Fatalf("httpbench: unknown -paired-scenario %q", *pairedScenario)
			}
			return
		}
		d.run(strings.Split(*handlers, ","), *cycle, *unique)
	default:
		log.Fatalf("unknown -role %q", *role)
	}
}

// driver starts servers and load generators and reports.
type driver struct {
	duration, warmup   time.Duration
	conns              int
	serverCPU, loadCPU string
	profile            string // directory for CPU profiles, or ""
	self               string // this binary
	dir                string // token files
	target             bench.Target
}

// setup finds this binary and makes the token directory, which the
// returned function removes.
func (d *driver) setup() func() {
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	d.self = self
	if d.dir, err = os.MkdirTemp("", "httpbench"); err != nil {
		log.Fatal(err)
	}
	return func() { os.RemoveAll(d.dir) }
}

func (d *driver) run(handlers []string, cycle, unique int) {
	a := bearertest.NewAuthority()
	defer a.Close()
	d.target = bench.TargetOf(a, "RS256")
	// RSA signing is slow (milliseconds a token on a busy VM), so one set
	// is minted: the cycling tokens are the first of the unique ones (each
	// scenario has a fresh server, so they are new to it), and the warm-up
	// token is one more.
	start := time.Now()
	tokens := mint(a, 1+max(cycle, unique))
	log.Printf("httpbench: minted %d RS256 tokens in %v", len(tokens), time.Since(start).Round(time.Millisecond))
	writeTokens(filepath.Join(d.dir, "one"), tokens[:1])
	writeTokens(filepath.Join(d.dir, "cycle"), tokens[1:1+cycle])
	writeTokens(filepath.Join(d.dir, "unique"), tokens[1:1+unique])

	scenarios := []scenario{
		{name: "one token", file: "one"},
		cycling(cycle),
		{name: "unique", file: "unique", once: true},
	}
	results := make(map[string]map[string]*result)
	pending := make(map[string]string)
	for _, h := range handlers {
		results[h] = make(map[string]*result)
		for _, s := range scenarios {
			res, err := d.measure(h, s)
			var p pendingError
			if errors.As(err, &p) {
				pending[h] = string(p)
				break
			}
			if err != nil {
				log.Fatalf("httpbench: %s, %s: %v", h, s.name, err)
			}
			log.Printf("httpbench: %-12s %-14s %8.0f req/s", h, s.name, float64(res.Requests)/res.Seconds)
			results[h][s.name] = res
		}
	}
	d.report(handlers, scenarios, results, pending)
}

// pendingError is a handler the core cannot serve yet (TODO(cache)).
type pendingError string

func (p pendingError) Error() string { return string(p) }

// command returns this binary in role, pinned to cpus if any.
func (d *driver) command(cpus string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.Command(d.self, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpus, d.self}, args...)...)
}

// measure starts a server for handler h, loads it with s and stops it.
func (d *driver) measure(h string, s scenario) (*result, error) {
	addr, stop, err := d.startServer(h)
	if err != nil {
		return nil, err
	}
	defer stop()
	if d.profile == "" {
		return d.load(addr, s, d.warmup, d.duration)
	}
	profiled := make(chan error, 1)
	go func() { profiled <- d.profileWindow(addr, h+"-"+s.file) }()
	res, err := d.load(addr, s, d.warmup, d.duration)
	if perr := <-profiled; err == nil && perr != nil {
		err = fmt.Errorf("profile: %w", perr)
	}
	return res, err
}

// startServer starts a server process for handler h and returns its
// address and a function that stops it.
func (d *driver) startServer(h string) (addr string, stop func(), err error) {
	srv := d.command(d.serverCPU, "-role", "server", "-handler", h,
		"-issuer", d.target.Issuer, "-jwks", d.target.JWKSURL, "-kid", d.target.KeyID,
		"-warm-tokens", filepath.Join(d.dir, "one"))
	srv.Stderr = os.Stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := srv.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if rest, ok := strings.CutPrefix(line, "pending "); ok {
		stop()
		return "", nil, pendingError(strings.TrimSpace(rest))
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		stop()
		return "", nil, fmt.Errorf("server did not start: %q %v", line, err)
	}
	return addr, stop, nil
}

// load runs a load process against addr with s's tokens and returns what
// it measured; a run with any refusal or error is invalid.
func (d *driver) load(addr string, s scenario, warmup, duration time.Duration) (*result, error) {
	warm := s.warm
	if warm == "" {
		warm = "one"
	}
	args := []string{"-role", "load", "-addr", addr, "-conns", fmt.Sprint(d.conns),
		"-warmup", warmup.String(), "-duration", duration.String(),
		"-warm-tokens", filepath.Join(d.dir, warm), "-tokens", filepath.Join(d.dir, s.file)}
	if s.once {
		args = append(args, "-once")
	}
	ld := d.command(d.loadCPU, args...)
	ld.Stderr = os.Stderr
	b, err := ld.Output()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	var res result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("load: %w: %q", err, b)
	}
	if res.Refused > 0 || res.Errors > 0 {
		return nil, fmt.Errorf("%d requests refused, %d errors: the run is invalid", res.Refused, res.Errors)
	}
	return &res, nil
}

// report prints requests/s and the ratio to the bare handler per
// scenario, then the CPU each side used.
func (d *driver) report(handlers []string, scenarios []scenario, results map[string]map[string]*result, pending map[string]string) {
	pin := "not pinned"
	if d.serverCPU != "" || d.loadCPU != "" {
		pin = fmt.Sprintf("server on CPU %s, load generator on CPU %s", d.serverCPU, d.loadCPU)
	}
	fmt.Printf("HTTP throughput, RS256, loopback, %s; %d keep-alive connections; %v measured after %v of warm-up per scenario; a fresh server per scenario.\n\n",
		pin, d.conns, d.duration, d.warmup)
	fmt.Printf("| handler |")
	for _, s := range scenarios {
		fmt.Printf(" %s req/s | × bare |", s.name)
	}
	fmt.Printf("\n|---|")
	for range scenarios {
		fmt.Printf("---:|---:|")
	}
	fmt.Println()
	rps := func(r *result) float64 { return float64(r.Requests) / r.Seconds }
	for _, h := range handlers {
		fmt.Printf("| %s |", h)
		for _, s := range scenarios {
			r, base := results[h][s.name], results[handlerNames[0]][s.name]
			switch {
			case r == nil:
				fmt.Printf(" TODO | |")
			case base == nil:
				fmt.Printf(" %.0f | |", rps(r))
			default:
				fmt.Printf(" %.0f | %.2f |", rps(r), rps(r)/rps(base))
			}
		}
		fmt.Println()
	}
	// Server CPU time per request is what a request costs whatever else
	// runs on the machine, so its ratio is steadier than throughput's.
	fmt.Printf("\nServer CPU time per request (µs) and its ratio to the bare handler's; steadier than req/s on a shared machine:\n\n| handler |")
	for _, s := range scenarios {
		fmt.Printf(" %s µs | × bare |", s.name)
	}
	fmt.Printf("\n|---|")
	for range scenarios {
		fmt.Printf("---:|---:|")
	}
	fmt.Println()
	for _, h := range handlers {
		fmt.Printf("| %s |", h)
		for _, s := range scenarios {
			r, base := results[h][s.name], results[handlerNames[0]][s.name]
			switch {
			case r == nil:
				fmt.Printf(" TODO | |")
			case base == nil:
				fmt.Printf(" %.1f | |", cpuPerRequest(r))
			default:
				fmt.Printf(" %.1f | %.2f |", cpuPerRequest(r), cpuPerRequest(r)/cpuPerRequest(base))
			}
		}
		fmt.Println()
	}
	fmt.Printf("\nCPU used in the measured window (1.00 = one core busy), requests measured, validated-token cache hits/misses and entries at the window's end:\n\n")
	fmt.Printf("| handler | scenario | server CPU | load CPU | requests | seconds | cache hits / misses, entries |\n|---|---|---:|---:|---:|---:|---|\n")
	for _, h := range handlers {
		for _, s := range scenarios {
			r := results[h][s.name]
			if r == nil {
				continue
			}
			cache := "–"
			if r.Hits != nil {
				cache = fmt.Sprintf("%d / %d, %d", *r.Hits, *r.Misses, *r.Entries)
			}
			fmt.Printf("| %s | %s | %.2f | %.2f | %d | %.2f | %s |\n", h, s.name, r.ServerCPU, r.CPU, r.Requests, r.Seconds, cache)
		}
	}
	for _, h := range handlers {
		if p, ok := pending[h]; ok {
			fmt.Printf("\n%s skipped: %s\n", h, p)
		}
	}
}

// mint returns n distinct RS256 tokens for the benchmark claims, signing
// on every core.
func mint(a *bearertest.Authority, n int) []string {
	tokens := make([]string, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				tokens[i] = a.TokenWith("RS256", nil, bench.Claims())
			}
		}()
	}
	wg.Wait()
	return tokens
}

// writeTokens writes tokens to file, one a line.
func writeTokens(file string, tokens []string) {
	if err := os.WriteFile(file, []byte(strings.Join(tokens, "\n")+"\n"), 0o600); err != nil {
		log.Fatal(err)
	}
}

// readTokens reads a token file.
func readTokens(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	tokens := strings.Fields(string(b))
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s: no tokens", file)
	}
	return tokens, nil
}

// readFirstToken reads the first token of a token file.
func readFirstToken(file string) (string, error) {
	tokens, err := readTokens(file)
	if err != nil {
		return "", err
	}
	return tokens[0], nil
}

// checkProfile says why -profile cannot be used with the other flags, if
// it cannot.
func checkProfile(profile, paired, pairedScenario string, duration time.Duration) error {
	switch {
	case profile == "":
		return nil
	case paired != "" && pairedScenario == "unique":
		return errors.New("-profile takes fresh servers; the unique-token paired mode's are long-lived")
	case duration < time.Second:
		return errors.New("-profile needs a -duration of at least 1s (pprof counts whole seconds)")
	}
	return nil
}

// profileWindow writes the CPU profile of the server at addr, taken over
// the load's measured window, to name.pprof in d.profile. pprof counts
// whole seconds, so the window is rounded down, and it starts a little
// after the warm-up so that none of the warm-up is in it.
func (d *driver) profileWindow(addr, name string) error {
	seconds := int(d.duration / time.Second)
	time.Sleep(d.warmup + 100*time.Millisecond)
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", addr, resp.Status)
	}
	if err := os.MkdirAll(d.profile, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(d.profile, name+".pprof"))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// defaultCacheSize is the core's default Config.CacheSize.
const defaultCacheSize = 10000
