package bearer

import (
	"context"
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
