package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSoak is the soak's short run, for CI: 60 s of mixed traffic through
// every fault of the schedule, against three replicas built with -race.
// It fails on any wrong verdict, or a data race or panic in a replica;
// never on speed or throughput, which a busy machine decides: the rate is
// one the slowest machine sustains, and the sign-out bound is generous
// (the long run's report measures both).
func TestSoak(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed (Debian package redis-server; scripts/ci-deps.sh installs it)")
	}
	out := t.TempDir()
	r, err := run(t.Context(), config{
		duration: 60 * time.Second, rate: 200, replicas: 3, redis: "single", race: true,
		bound: 5 * time.Second, out: out, repo: "..", log: logWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.summary())
	if r.failed() {
		t.Errorf("%d wrong verdicts, replica problems %q (report, CSV and plot in %s)", len(r.wrongs), r.problems, out)
	}
}

// logWriter writes the soak's progress to the test's log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
