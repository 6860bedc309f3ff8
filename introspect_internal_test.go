package bearer

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

func idleWorkers(in *Introspector) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.idle)
}

func testIntrospector(t *testing.T) (*bearertest.Authority, *Introspector) {
	t.Helper()
	old := workerIdle
	workerIdle = 50 * time.Millisecond
	t.Cleanup(func() { workerIdle = old })
	a := bearertest.New(t)
	in, err := NewIntrospector(Config{
		IntrospectionEndpoint: a.IntrospectionURL(), ClientID: bearertest.DefaultClientID,
		ClientSecret: bearertest.DefaultClientSecret, CacheDuration: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return a, in
}

func TestWorkerIsReusedThenEndsWhenIdle(t *testing.T) {
	a, in := testIntrospector(t)
	tok := a.ReferenceToken(nil)
	for range 3 {
		if _, err := in.Introspect(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		// The worker puts itself back on the list just after answering.
		for deadline := time.Now().Add(time.Second); idleWorkers(in) == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if n := idleWorkers(in); n != 1 {
			t.Fatalf("%d idle workers, want 1", n)
		}
	}
	time.Sleep(4 * workerIdle)
	if n := idleWorkers(in); n != 0 {
		t.Errorf("%d idle workers after %v", n, 4*workerIdle)
	}
	if _, err := in.Introspect(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}

func TestWorkerTakesCallHandedOverAsItTimesOut(t *testing.T) {
	a, in := testIntrospector(t)
	if _, err := in.Introspect(context.Background(), a.ReferenceToken(nil)); err != nil {
		t.Fatal(err)
	}
	for idleWorkers(in) == 0 {
		time.Sleep(time.Millisecond)
	}
	// Hold the lock past the worker's timeout so that it wakes for it
	// and then must find the call that work hands it meanwhile.
	ran := make(chan struct{})
	in.mu.Lock()
	time.Sleep(2 * workerIdle)
	in.work(func() { close(ran) })
	in.mu.Unlock()
	select {
	case <-ran:
	case <-time.After(2 * time.Second):
		t.Fatal("the call handed over was lost")
	}
}

// ourGoroutines lists the goroutines running this package's code.
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var ours []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "accesstoken/bearer.") && !strings.Contains(g, "ourGoroutines") && !strings.Contains(g, "bearertest.") {
			ours = append(ours, g)
		}
	}
	return ours
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	a := bearertest.New(t)
	before := len(ourGoroutines())
	in, err := NewIntrospector(Config{
		Authority: a.Issuer(), ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret,
		IntrospectionJWT: true, // discovery, and keys refreshed in the background
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := in.Introspect(context.Background(), a.ReferenceToken(nil)); err != nil {
			t.Fatal(err)
		}
	}
	a.SetDelay(bearertest.Introspection, time.Minute)
	go in.Introspect(context.Background(), a.ReferenceToken(nil))
	for a.Hits(bearertest.Introspection) < 4 {
		time.Sleep(time.Millisecond)
	}
	in.Close()
	// Goroutines end just after they tell Close they are done.
	deadline := time.Now().Add(2 * time.Second)
	for len(ourGoroutines()) > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := ourGoroutines(); len(g) > before {
		t.Errorf("after Close:\n%s", strings.Join(g, "\n\n"))
	}
}
