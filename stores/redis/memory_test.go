package redis

import (
	"runtime"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// TestConnectedStoreMemory: a Store connected to Redis, and serving a
// replica, holds a few hundred KB, not megabytes of connection buffers,
// and a reconnection (Redis restarted) does not leave it holding more:
// an API's memory is flat across Redis outages.
func TestConnectedStoreMemory(t *testing.T) {
	inUse := func() int64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapInuse)
	}
	a := bearertest.NewAuthority()
	defer a.Close()
	r := startRedis(t)
	before := inUse()
	v, s := connectedReplica(t, a, r)
	mustValid(t, v, a.Token(claims(nil)))
	connected := inUse()
	// The Validator, its keys and caches take some hundreds of KB too:
	// the bound is what rueidis's default buffers alone (0.5 MiB each way
	// on each connection, 4 MB here) would break.
	const bound = 2500 << 10
	t.Logf("connected: %d KB", (connected-before)>>10)
	if grown := connected - before; grown > bound {
		t.Errorf("a connected Store and its replica hold %d KB, want at most %d", grown>>10, bound>>10)
	}
	r.restart()
	waitConnected(t, s)
	mustValid(t, v, a.Token(claims(nil)))
	// The old connection's buffers are garbage once the goroutines that
	// served it have ended, which on a busy machine can take a moment:
	// wait for it. rueidis's default buffers would never fall under the
	// bound.
	grown := inUse() - before
	for deadline := time.Now().Add(10 * time.Second); grown > bound && time.Now().Before(deadline); grown = inUse() - before {
		time.Sleep(50 * time.Millisecond)
	}
	if grown > bound {
		t.Errorf("after Redis restarted, the Store and its replica hold %d KB, want at most %d", grown>>10, bound>>10)
	}
}
