package redis

import (
	"fmt"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
)

// TestLocalTierDropsExpired: answers that expired and were not asked for
// again leave the local tier as new ones come in, rather than filling it
// to LocalCacheSize; found by the soak (docs/reliability.md), where the
// replicas' memory grew for as long as new reference tokens came.
func TestLocalTierDropsExpired(t *testing.T) {
	l := newLocalTier(1000)
	r := &bearer.Result{}
	for i := range 100 {
		l.put(fmt.Sprint("dead-", i), r, time.Millisecond)
	}
	deadline := time.Now().Add(time.Millisecond)
	for time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for i := range 100 {
		l.put(fmt.Sprint("live-", i), r, time.Hour)
	}
	if n := l.lru.Len(); n != 100 {
		t.Errorf("%d answers in the local tier, want the 100 live ones", n)
	}
	for i := range 100 {
		if _, ok := l.get(fmt.Sprint("live-", i)); !ok {
			t.Fatalf("live-%d is not found", i)
		}
	}
}
