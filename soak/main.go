// Command soak runs examples/api as replicas on one real redis-server,
// under mixed concurrent traffic and faults on a schedule, and checks the
// verdict of every request against an oracle that knows it by
// construction (docs/reliability.md). It writes report.md, series.csv and
// plot.svg to -out, and exits 1 on any wrong verdict.
//
//	go run ./soak -duration 10m -rate 2000 -out /tmp/soak   # from the repository's root
//
// The test of this package (TestSoak) is its short run in CI.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := config{log: os.Stderr}
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "how long the traffic runs")
	flag.IntVar(&c.rate, "rate", 2000, "target requests per second, across the replicas")
	flag.IntVar(&c.replicas, "replicas", 3, "examples/api replicas")
	flag.StringVar(&c.redis, "redis", "single", "the Redis: `single` (killed, and restarted empty), sentinel (a primary, a replica, three sentinels) or cluster (three primaries with a replica each); the primary is killed halfway")
	flag.BoolVar(&c.race, "race", false, "build the replicas with -race")
	flag.DurationVar(&c.bound, "bound", time.Second, "a sign-out must hold on every replica this long after the authority's logout request succeeded (after Redis is back, if it was down)")
	flag.StringVar(&c.out, "out", "soak-out", "`directory` for report.md, series.csv and plot.svg")
	flag.StringVar(&c.repo, "repo", ".", "the repository's root, where examples/api is built")
	flag.IntVar(&c.procs, "replica-procs", 0, "GOMAXPROCS of each replica (0: the Go runtime's default, the number of CPUs)")
	flag.Parse()
	// The driver times every request with its own clock, so its
	// collections' pauses and marking count as the replicas' latency: its
	// live heap is a few MB, which the default GOGC of 100 would collect
	// four times a second. It can afford the memory.
	debug.SetGCPercent(800)
	r, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	fmt.Print(r.summary())
	if r.failed() {
		os.Exit(1)
	}
}
