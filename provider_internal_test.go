package bearer

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestProviderGetAfterDiscoveryEndsMeanwhile: a request that finds no
// discovered authority, then waits for the provider's lock while the
// first discovery succeeds, gets the authority, not a 503 for an
// attempt "too recent to try again" (with no cause). Under load the
// window was wide enough for good tokens to get 503 from a reachable
// authority (TestIssue26_1_CacheHitJudgedByCurrentAuthority, now and then).
func TestProviderGetAfterDiscoveryEndsMeanwhile(t *testing.T) {
	p := &provider{s: &settings{}, attempt: make(chan struct{}), wake: make(chan struct{}, 1)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	defer p.cancel()

	p.mu.Lock()
	got := make(chan error, 1)
	go func() {
		_, err := p.get(context.Background())
		got <- err
	}()
	waitForLockIn(t, "(*provider).get")
	// What run does when an attempt succeeds: the authority first, then
	// the attempt's end.
	p.current.Store(&remote{issuer: "https://authority.example"})
	p.running, p.lastStart, p.lastErr = false, time.Now(), nil
	p.mu.Unlock()

	if err := <-got; err != nil {
		t.Fatalf("get after a successful attempt: %v", err)
	}
}

// waitForLockIn waits until a goroutine is blocked on a mutex inside fn.
func waitForLockIn(t *testing.T, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n := runtime.Stack(buf, true)
		for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
			if strings.Contains(g, "[sync.Mutex.Lock") && strings.Contains(g, fn) {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("no goroutine blocked on a mutex in %s", fn)
}
