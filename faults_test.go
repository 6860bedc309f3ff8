package bearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The authority fails in every way it can: slow, down, flapping, garbage,
// redirecting elsewhere. A request must never wait much longer than
// Config.Timeout, fail closed (503, never 200 nor a 401 that blames a
// good token), and the same Validator must recover once the authority
// does, without a restart.
//
// Bounds are asserted generously (Timeout plus seconds): the point is
// "not a minute", and a busy machine must not make the tests flaky.

const faultTimeout = 300 * time.Millisecond

// faultBound is the longest a request may take with faultTimeout.
const faultBound = faultTimeout + 3*time.Second

var quiet = slog.New(slog.DiscardHandler)

// timedValidate validates token and fails t if it took longer than
// faultBound.
func timedValidate(t *testing.T, v *bearer.Validator, token string) error {
	t.Helper()
	start := time.Now()
	_, err := v.Validate(context.Background(), token)
	if d := time.Since(start); d > faultBound {
		t.Errorf("a request waited %v on the authority (Timeout %v)", d, faultTimeout)
	}
	return err
}

// mustRecover validates token until it succeeds, failing t after 10 s.
func mustRecover(t *testing.T, v *bearer.Validator, token string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := timedValidate(t, v, token)
		if err == nil {
			return
		}
		if !errors.Is(err, bearer.ErrUnavailable) {
			t.Fatalf("while recovering: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered 10 s after the authority did: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// faultConfig is a validator of a with introspection, the short timeout
// and windows, and no caches, so every request that can reach the
// authority does.
func faultConfig(a *bearertest.Authority) bearer.Config {
	return bearer.Config{
		Authority: a.Issuer(), Audience: []string{"api"}, Timeout: faultTimeout,
		KeyRefreshWindow: 50 * time.Millisecond, CacheDuration: -1, InactiveCacheDuration: -1,
		ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret,
		Logger: quiet,
	}
}

func startCold(t *testing.T, cfg bearer.Config) *bearer.Validator {
	t.Helper()
	v, err := bearer.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestFaultSlowAuthority(t *testing.T) {
	t.Run("discovery, cold", func(t *testing.T) {
		t.Parallel()
		a := bearertest.New(t)
		a.SetDelay(bearertest.Discovery, time.Minute)
		a.SetDelay(bearertest.Metadata, time.Minute)
		v := startCold(t, faultConfig(a))
		tok := a.Token(claims(nil))
		mustUnavailable(t, timedValidate(t, v, tok))
		a.SetDelay(bearertest.Discovery, 0)
		mustRecover(t, v, tok)
	})
	t.Run("JWKS, cold", func(t *testing.T) {
		t.Parallel()
		a := bearertest.New(t)
		a.SetDelay(bearertest.JWKS, time.Minute)
		v := startCold(t, faultConfig(a))
		tok := a.Token(claims(nil))
		mustUnavailable(t, timedValidate(t, v, tok))
		a.SetDelay(bearertest.JWKS, 0)
		mustRecover(t, v, tok)
	})
	t.Run("JWKS, warm, new kid", func(t *testing.T) {
		a := bearertest.New(t)
		v := newValidator(t, a, faultConfig(a))
		mustValid(t, v, a.Token(claims(nil)))
		a.SetDelay(bearertest.JWKS, time.Minute)
		a.RotateKey("ES256")
		tok := a.TokenWith("ES256", nil, claims(nil))
		mustUnavailable(t, timedValidate(t, v, tok))
		mustValid(t, v, a.Token(claims(nil))) // known keys keep working
		a.SetDelay(bearertest.JWKS, 0)
		mustRecover(t, v, tok)
	})
	t.Run("JWKS body stalls, warm, new kid", func(t *testing.T) {
		a := bearertest.New(t)
		var stall atomic.Bool
		stop := make(chan struct{})
		keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !stall.Load() {
				w.Write(a.JWKS())
				return
			}
			w.Write([]byte(`{"keys":[`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}))
		t.Cleanup(keys.Close)
		t.Cleanup(func() { close(stop) })
		a.SetDiscovery(func(doc map[string]any) { doc["jwks_uri"] = keys.URL })
		v := newValidator(t, a, faultConfig(a))
		stall.Store(true)
		a.RotateKey("ES384")
		tok := a.TokenWith("ES384", nil, claims(nil))
		mustUnavailable(t, timedValidate(t, v, tok))
		stall.Store(false)
		mustRecover(t, v, tok)
	})
	t.Run("introspection", func(t *testing.T) {
		a := bearertest.New(t)
		v := newValidator(t, a, faultConfig(a))
		a.SetDelay(bearertest.Introspection, time.Minute)
		ref := a.ReferenceToken(claims(nil))
		mustUnavailable(t, timedValidate(t, v, ref))
		a.SetDelay(bearertest.Introspection, 0)
		mustRecover(t, v, ref)
	})
}

// TestFaultColdStartUnknownKid: at a cold start the request waits for
// discovery (JWKS included) and then, for a kid that set lacks, for a
// second JWKS fetch, each bounded by Timeout but not together.
func TestFaultColdStartUnknownKid(t *testing.T) {
	a := bearertest.New(t)
	const timeout = 2 * time.Second
	a.SetDelay(bearertest.JWKS, timeout-100*time.Millisecond)
	cfg := faultConfig(a)
	cfg.Timeout = timeout
	v := startCold(t, cfg)
	start := time.Now()
	_, err := v.Validate(context.Background(), a.TokenWith("RS256", map[string]any{"kid": "unknown"}, claims(nil)))
	if d := time.Since(start); d > timeout+time.Second {
		t.Errorf("waited %v (Timeout %v): %v", d, timeout, err)
	}
}

func TestFaultDown(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, faultConfig(a))
	jwt := a.Token(claims(nil))
	mustValid(t, v, jwt)
	a.SetDown(true)
	// What needs no authority still works; what needs it is a 503.
	mustValid(t, v, jwt)
	mustUnavailable(t, timedValidate(t, v, a.ReferenceToken(claims(nil))))
	a.RotateKey("EdDSA")
	rotated := a.TokenWith("EdDSA", nil, claims(nil))
	mustUnavailable(t, timedValidate(t, v, rotated))
	a.SetDown(false)
	mustRecover(t, v, rotated)
	mustRecover(t, v, a.ReferenceToken(claims(nil)))
}

// TestFaultFlapping: the authority goes down and up every few tens of
// milliseconds while requests keep coming. Good tokens get 200 or 503,
// never 401; every request is bounded; once the authority stays up, the
// same Validator serves everything again.
func TestFaultFlapping(t *testing.T) {
	for _, warm := range []bool{true, false} {
		name := "cold start"
		if warm {
			name = "warm"
		}
		t.Run(name, func(t *testing.T) {
			a := bearertest.New(t)
			var v *bearer.Validator
			if warm {
				v = newValidator(t, a, faultConfig(a))
			} else {
				a.SetDown(true)
				v = startCold(t, faultConfig(a))
			}
			jwt := a.Token(claims(nil))
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the flapping
				defer wg.Done()
				down := !warm
				for i := 0; ; i++ {
					select {
					case <-stop:
						a.SetDown(false)
						return
					case <-time.After(time.Duration(10+i%4*10) * time.Millisecond):
					}
					down = !down
					a.SetDown(down)
					if i%5 == 0 {
						// A rotation while the authority flaps: tokens of
						// the new key are accepted or 503, never 401.
						a.RotateKey("ES256")
					}
				}
			}()
			var ok, unavailable atomic.Int64
			for w := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var tok string
						switch (w + i) % 3 {
						case 0:
							tok = jwt
						case 1:
							tok = a.TokenWith("ES256", nil, claims(nil))
						case 2:
							tok = a.ReferenceToken(claims(nil))
						}
						err := timedValidate(t, v, tok)
						switch {
						case err == nil:
							ok.Add(1)
						case errors.Is(err, bearer.ErrUnavailable):
							unavailable.Add(1)
						default:
							t.Errorf("a good token refused while the authority flaps: %v", err)
							return
						}
					}
				}()
			}
			time.Sleep(2 * time.Second)
			close(stop)
			wg.Wait()
			t.Logf("while flapping: %d accepted, %d unavailable", ok.Load(), unavailable.Load())
			mustRecover(t, v, jwt)
			mustRecover(t, v, a.TokenWith("ES256", nil, claims(nil)))
			mustRecover(t, v, a.ReferenceToken(claims(nil)))
		})
	}
}

func TestFaultGarbage(t *testing.T) {
	garbage := [][]byte{[]byte("<html>Gateway</html>"), []byte(`{"issuer":`), []byte(`[]`), []byte(`{"keys":"none"}`), []byte("\x00\xff")}
	t.Run("discovery", func(t *testing.T) {
		for i, g := range garbage {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				a := bearertest.New(t)
				a.SetBody(bearertest.Discovery, g)
				a.SetBody(bearertest.Metadata, g)
				v := startCold(t, faultConfig(a))
				tok := a.Token(claims(nil))
				mustUnavailable(t, timedValidate(t, v, tok))
				a.SetBody(bearertest.Discovery, nil)
				a.SetBody(bearertest.Metadata, nil)
				mustRecover(t, v, tok)
			})
		}
	})
	t.Run("JWKS", func(t *testing.T) {
		a := bearertest.New(t)
		v := newValidator(t, a, faultConfig(a))
		jwt := a.Token(claims(nil))
		a.RotateKey("ES512")
		rotated := a.TokenWith("ES512", nil, claims(nil))
		for _, g := range garbage {
			a.SetBody(bearertest.JWKS, g)
			time.Sleep(60 * time.Millisecond) // past KeyRefreshWindow
			mustValid(t, v, jwt)              // the last good keys stay
			if err := timedValidate(t, v, rotated); err == nil {
				t.Fatalf("JWKS %q: a key it does not hold verified", g)
			}
		}
		a.SetBody(bearertest.JWKS, nil)
		mustRecover(t, v, rotated)
	})
	t.Run("introspection", func(t *testing.T) {
		a := bearertest.New(t)
		v := newValidator(t, a, faultConfig(a))
		ref := a.ReferenceToken(claims(nil))
		// A JSON object without active is an inactive answer (RFC 7662
		// §2.2), not garbage.
		for _, g := range slices.DeleteFunc(slices.Clone(garbage), func(g []byte) bool { return json.Valid(g) && g[0] == '{' }) {
			a.SetBody(bearertest.Introspection, g)
			mustUnavailable(t, timedValidate(t, v, ref))
		}
		a.SetBody(bearertest.Introspection, nil)
		mustRecover(t, v, ref)
	})
	t.Run("JWK Set of 2 MiB", func(t *testing.T) {
		a := bearertest.New(t)
		v := newValidator(t, a, faultConfig(a))
		a.SetBody(bearertest.JWKS, []byte(`{"keys":[],"x":"`+strings.Repeat("x", 2<<20)+`"}`))
		a.RotateKey("ES256")
		rotated := a.TokenWith("ES256", nil, claims(nil))
		mustUnavailable(t, timedValidate(t, v, rotated))
		mustValid(t, v, a.Token(claims(nil)))
		a.SetBody(bearertest.JWKS, nil)
		mustRecover(t, v, rotated)
	})
}

// TestFaultRedirectToAnotherHost: the JWKS and introspection endpoints
// answer with a redirect to another host, which holds what would work.
// Nothing goes there; requests fail closed; the authority repairing its
// endpoints is enough to recover.
func TestFaultRedirectToAnotherHost(t *testing.T) {
	a := bearertest.New(t)
	evil := bearertest.New(t)
	var redirect atomic.Bool
	redirect.Store(true)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := a.URL
		if redirect.Load() {
			target = evil.URL
		}
		if r.URL.Path == "/jwks" && !redirect.Load() {
			w.Write(a.JWKS())
			return
		}
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(proxy.Close)
	a.SetDiscovery(func(doc map[string]any) {
		doc["jwks_uri"] = proxy.URL + "/jwks"
		doc["introspection_endpoint"] = proxy.URL + "/introspect"
	})
	v := startCold(t, faultConfig(a))
	tok := a.Token(claims(nil))
	mustUnavailable(t, timedValidate(t, v, tok))
	redirect.Store(false)
	mustRecover(t, v, tok)
	redirect.Store(true)
	mustUnavailable(t, timedValidate(t, v, a.ReferenceToken(claims(nil))))
	for _, e := range []bearertest.Endpoint{bearertest.JWKS, bearertest.Introspection, bearertest.Discovery} {
		if n := evil.Hits(e); n != 0 {
			t.Errorf("followed a redirect to another host: %d requests to its %s", n, e)
		}
	}
}

// TestFaultUnknownKidFloodOnSlowJWKS: 200 tokens with random kids while
// the JWKS endpoint is slow cost at most the burst of three fetches
// within one window, and every request is bounded.
func TestFaultUnknownKidFloodOnSlowJWKS(t *testing.T) {
	a := bearertest.New(t)
	cfg := faultConfig(a)
	cfg.KeyRefreshWindow = 10 * time.Second
	v := newValidator(t, a, cfg)
	a.SetDelay(bearertest.JWKS, 200*time.Millisecond)
	a.ResetHits()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := timedValidate(t, v, a.TokenWith("ES256", map[string]any{"kid": fmt.Sprintf("flood-%d", i)}, claims(nil)))
			if !errors.Is(err, bearer.ErrInvalidToken) && !errors.Is(err, bearer.ErrUnavailable) {
				t.Errorf("unknown kid: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := a.Hits(bearertest.JWKS); n > 3 {
		t.Errorf("200 unknown kids caused %d JWKS fetches", n)
	}
}
