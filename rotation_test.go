package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// A key rotation never costs a 401, whatever came before it: a token is
// refused for an unknown kid only once a JWKS fetch begun after its
// request arrived lacks the kid, and the rate limit on such fetches only
// delays them (issue 17 §1).

// randomKids returns n tokens of a signed with a's ES256 key under kids
// the authority never published.
func randomKids(a *bearertest.Authority, n int) []string {
	toks := make([]string, n)
	for i := range toks {
		toks[i] = a.TokenWith("ES256", map[string]any{"kid": fmt.Sprintf("random-%d-%d", time.Now().UnixNano(), i)}, claims(nil))
	}
	return toks
}

// flood validates every token at once and fails t unless each is refused
// as invalid (or, with unavailableOK, 503).
func flood(t *testing.T, v *bearer.Validator, toks []string, unavailableOK bool) {
	t.Helper()
	var wg sync.WaitGroup
	for _, tok := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Validate(context.Background(), tok)
			if !errors.Is(err, bearer.ErrUnknownKey) && !(unavailableOK && errors.Is(err, bearer.ErrUnavailable)) {
				t.Errorf("random kid: %v", err)
			}
		}()
	}
	wg.Wait()
}

func TestRotationAfterUnknownKidBurstIsAcceptedOnFirstRequest(t *testing.T) {
	for _, slow := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(fmt.Sprintf("JWKS delay %v", slow), func(t *testing.T) {
			t.Parallel()
			a := bearertest.New(t)
			v := newValidator(t, a, bearer.Config{Logger: quiet}) // the defaults
			a.SetDelay(bearertest.JWKS, slow)
			toks := randomKids(a, 200)
			a.ResetHits()
			start := time.Now()
			flood(t, v, toks, false)
			burst := time.Since(start)
			fetches := a.Hits(bearertest.JWKS)

			a.RotateKey("ES256")
			rotated := a.TokenWith("ES256", nil, claims(nil))
			start = time.Now()
			mustValid(t, v, rotated)
			t.Logf("200 random kids: %d JWKS fetches in %v; then the rotated key's token waited %v on its first request",
				fetches, burst.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestRotationAfterSequentialUnknownKids: random kids one after another
// use up the burst and then wait on the rate limit; a rotated key's token
// right after still gets its fetch within Timeout.
func TestRotationAfterSequentialUnknownKids(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{KeyRefreshWindow: 100 * time.Millisecond, Timeout: 2 * time.Second, Logger: quiet})
	for _, tok := range randomKids(a, 10) {
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	}
	a.RotateKey("RS256")
	mustValid(t, v, a.Token(claims(nil)))
}

// jwksHold is an authority whose JWKS answers can be held after their body
// is made, so that a key can be published while a fetch that will not
// carry it is under way.
type jwksHold struct {
	*bearertest.Authority
	srv     *httptest.Server
	hold    atomic.Bool
	started chan struct{} // a held fetch has made its body
	release chan struct{}
}

func newJWKSHold(t *testing.T) *jwksHold {
	h := &jwksHold{started: make(chan struct{}, 16), release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, h.srv.URL, h.srv.URL+"/jwks")
		case "/jwks":
			body := h.JWKS()
			if h.hold.Load() {
				h.started <- struct{}{}
				<-h.release
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(h.srv.Close)
	h.Authority = bearertest.New(t, bearertest.WithIssuer(h.srv.URL))
	return h
}

// TestKeyPublishedDuringAFetchIsNotRefusedByIt: the fetch under way when
// a token arrives predates its key; the token waits for the next one.
func TestKeyPublishedDuringAFetchIsNotRefusedByIt(t *testing.T) {
	h := newJWKSHold(t)
	v := newValidator(t, h.Authority, bearer.Config{Authority: h.srv.URL, Logger: quiet})
	h.hold.Store(true)
	unknown := make(chan error, 1)
	go func() {
		_, err := v.Validate(context.Background(), randomKids(h.Authority, 1)[0])
		unknown <- err
	}()
	<-h.started // that fetch's body is made, without the next key
	h.RotateKey("RS256")
	rotated := h.Token(claims(nil))
	accepted := make(chan error, 1)
	go func() {
		_, err := v.Validate(context.Background(), rotated)
		accepted <- err
	}()
	// Let the rotated token's request arrive while the first fetch is held.
	time.Sleep(100 * time.Millisecond)
	h.hold.Store(false)
	close(h.release)
	if err := <-unknown; !errors.Is(err, bearer.ErrUnknownKey) {
		t.Errorf("random kid: %v", err)
	}
	if err := <-accepted; err != nil {
		t.Errorf("a key published while a fetch was under way: %v", err)
	}
}

// TestAFetchThatBringsTheKeyLetsEveryWaiterThrough: a request that arrives
// while a fetch is under way waits for a later fetch before its token may
// be refused, but not before it may be accepted: once the fetch under way
// brings the token's key, every request waiting for that kid goes on,
// though the next fetch never ends.
func TestAFetchThatBringsTheKeyLetsEveryWaiterThrough(t *testing.T) {
	var (
		a       *bearertest.Authority
		calls   atomic.Int32
		started = make(chan struct{}) // the second fetch has made its body
		release = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, a.Issuer(), a.Issuer()+"/jwks")
			return
		}
		body := a.JWKS()
		switch calls.Add(1) {
		case 1: // Ready's
		case 2: // the rotated key's, with it
			close(started)
			<-release
		default: // any later one hangs until the Validator gives up
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	a = bearertest.New(t, bearertest.WithIssuer(srv.URL))
	v := newValidator(t, a, bearer.Config{Authority: srv.URL, Timeout: 3 * time.Second, Logger: quiet})

	a.RotateKey("RS256")
	rotated := a.Token(claims(nil))
	results := make(chan error, 2)
	validate := func() {
		_, err := v.Validate(context.Background(), rotated)
		results <- err
	}
	go validate()
	<-started
	go validate()
	// Let the second request arrive while the fetch is held.
	time.Sleep(100 * time.Millisecond)
	close(release)
	for range 2 {
		if err := <-results; err != nil {
			t.Errorf("a token whose key the fetch under way brought: %v", err)
		}
	}
}

// TestRateLimitDelaysButNeverJudges: once the burst of fetches is used, a
// token with an unknown kid that cannot get a fetch within Timeout gets
// 503 with Retry-After, not 401; after the window it is judged.
func TestRateLimitDelaysButNeverJudges(t *testing.T) {
	a := bearertest.New(t)
	const window = 3 * time.Second
	v := newValidator(t, a, bearer.Config{KeyRefreshWindow: window, Timeout: 200 * time.Millisecond, Logger: quiet})
	for _, tok := range randomKids(a, 3) { // the burst
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	}
	a.ResetHits()
	a.RotateKey("ES256")
	rotated := a.TokenWith("ES256", nil, claims(nil))
	e := mustFail(t, v, rotated, bearer.ErrUnavailable, nil)
	if e.Status != http.StatusServiceUnavailable || e.RetryAfter <= 0 || e.RetryAfter > window {
		t.Errorf("while the rate limit delays the fetch: %+v", e)
	}
	deadline := time.Now().Add(2 * window)
	for {
		_, err := v.Validate(context.Background(), rotated)
		if err == nil {
			break
		}
		if !errors.Is(err, bearer.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("after the window: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := a.Hits(bearertest.JWKS); n != 1 {
		t.Errorf("%d JWKS fetches after the burst, want 1", n)
	}
}

// TestUnknownKidFloodCostsOneFetchPerWindow: whatever the flood, the
// authority sees at most the burst plus one fetch per KeyRefreshWindow.
func TestUnknownKidFloodCostsOneFetchPerWindow(t *testing.T) {
	a := bearertest.New(t)
	const window = 100 * time.Millisecond
	v := newValidator(t, a, bearer.Config{KeyRefreshWindow: window, Logger: quiet})
	a.ResetHits()
	start := time.Now()
	for range 5 {
		flood(t, v, randomKids(a, 40), false)
	}
	elapsed := time.Since(start)
	limit := 3 + int(elapsed/window) + 1
	if n := a.Hits(bearertest.JWKS); n > limit {
		t.Errorf("%d JWKS fetches in %v, want at most %d", n, elapsed, limit)
	}
}

// TestAbsentKidAnsweredAtOnce: a kid that a fetch begun after its request
// showed missing is refused again without another fetch.
func TestAbsentKidAnsweredAtOnce(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Logger: quiet})
	tok := randomKids(a, 1)[0]
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	a.ResetHits()
	for range 20 {
		mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	}
	if n := a.Hits(bearertest.JWKS); n != 0 {
		t.Errorf("an absent kid caused %d more fetches", n)
	}
	// A published kid with an algorithm its key does not fit costs one
	// fetch (a key of that type may have been published under the same
	// kid since), then is refused at once likewise.
	wrongAlg := a.TokenWith("RS256", map[string]any{"alg": "PS256"}, claims(nil))
	for range 20 {
		mustFail(t, v, wrongAlg, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	}
	if n := a.Hits(bearertest.JWKS); n != 1 {
		t.Errorf("a published kid with the wrong alg caused %d fetches, want 1", n)
	}
}

// TestEmptyJWKSIsAFailedRefresh: a key set with no usable key keeps the
// last good keys, is logged at ERROR, and is retried.
func TestEmptyJWKSIsAFailedRefresh(t *testing.T) {
	for name, body := range map[string]string{
		"no keys":        `{"keys":[]}`,
		"no usable keys": `{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := bearertest.New(t)
			var logs logBuffer
			v := newValidator(t, a, bearer.Config{KeyRefreshWindow: time.Millisecond, Logger: logs.logger()})
			tok := a.Token(claims(nil))
			a.SetBody(bearertest.JWKS, []byte(body))
			// An unknown kid makes it fetch the useless set.
			mustUnavailable(t, validateErr(v, randomKids(a, 1)[0]))
			mustValid(t, v, tok) // the last good keys
			if !strings.Contains(logs.String(), "level=ERROR msg=\"bearer: JWKS unusable; keeping the last good keys\"") {
				t.Errorf("logs: %s", logs.String())
			}
		})
	}
}

func validateErr(v *bearer.Validator, token string) error {
	_, err := v.Validate(context.Background(), token)
	return err
}
