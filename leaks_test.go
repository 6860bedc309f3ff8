package bearer_test

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestNoGoroutineOutlivesClose runs a Validator through everything that
// starts background work (discovery, key refreshes, a kid-triggered
// fetch, introspection workers, a call still waiting on a slow endpoint)
// and checks that Close leaves no goroutine behind, while the authority
// itself stays up.
func TestNoGoroutineOutlivesClose(t *testing.T) {
	for _, slowCall := range []bool{false, true} {
		name := "idle"
		if slowCall {
			name = "call under way"
		}
		t.Run(name, func(t *testing.T) {
			a := bearertest.New(t)
			// The authority's own goroutines stay: only the Validator's must go.
			ignore := goleak.IgnoreCurrent()
			v, err := bearer.New(context.Background(), bearer.Config{
				Authority: a.Issuer(), Audience: []string{"api"},
				ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret,
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			ready(t, v)
			mustValid(t, v, a.Token(claims(nil)))
			a.RotateKey("ES256") // a kid-triggered fetch
			mustValid(t, v, a.TokenWith("ES256", nil, claims(nil)))
			mustValid(t, v, a.ReferenceToken(claims(nil)))
			var waiting chan error
			if slowCall {
				a.SetDelay(bearertest.Introspection, time.Minute)
				waiting = make(chan error, 1)
				go func() {
					_, err := v.Validate(context.Background(), a.ReferenceToken(claims(nil)))
					waiting <- err
				}()
				for a.Hits(bearertest.Introspection) < 2 {
					time.Sleep(time.Millisecond)
				}
			}
			v.Close()
			if slowCall {
				if err := <-waiting; err == nil {
					t.Error("a call cut short by Close succeeded")
				}
			}
			// The authority's handler of the cut call waits out its delay:
			// it has not read the request body, so net/http cannot tell
			// that the client went away. It is the authority's goroutine.
			authority := goleak.IgnoreTopFunction("github.com/accesstoken/bearer/bearertest.(*Authority).serveHTTP")
			if err := goleak.Find(ignore, authority); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func ready(t *testing.T, v *bearer.Validator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestNoGoroutinePerRequest validates 1000 distinct JWTs and 1000
// distinct reference tokens with a warm Validator and checks the number
// of goroutines does not grow with them: requests run on the caller's
// goroutine, and introspection reuses its workers.
func TestNoGoroutinePerRequest(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{
		ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret,
		Logger: slog.New(slog.DiscardHandler),
	})
	const n = 1000
	jwts := make([]string, n)
	refs := make([]string, n)
	for i := range n {
		jwts[i] = a.TokenWith("ES256", nil, claims(nil))
		refs[i] = a.ReferenceToken(claims(nil))
	}
	// Warm: keys fetched, one introspection worker and one connection.
	mustValid(t, v, a.TokenWith("ES256", nil, claims(nil)))
	mustValid(t, v, a.ReferenceToken(claims(nil)))
	before := runtime.NumGoroutine()
	for i := range n {
		mustValid(t, v, jwts[i])
		mustValid(t, v, refs[i])
	}
	// A small constant covers a worker or connection that came or went
	// meanwhile; a goroutine per request would be a thousand.
	if after := runtime.NumGoroutine(); after > before+5 {
		t.Errorf("%d goroutines before %d requests, %d after", before, 2*n, after)
	}
}
