package bearer

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accesstoken/bearer/observe"
)

// remote is what the validator knows of the authority once discovery has
// succeeded. It never changes afterwards; the key set refreshes itself.
type remote struct {
	issuer        string
	introspectURL string
	keys          *keySet // nil only if every token is introspected and no jwks_uri is known

	// used is non-nil when the keys were not fetched with the metadata,
	// since every token is introspected with unsigned answers: it is
	// closed when they are first needed (a logout token, KeySet), which
	// fetches them, and starts their background refresh.
	used     chan struct{}
	usedOnce sync.Once
}

// Retry timing for discovery while the authority is down.
const (
	minAttemptSpacing = time.Second
	maxBackoff        = 30 * time.Second
)

var errNotReady = errors.New("authority not discovered yet")

// provider discovers the authority lazily: New does not wait for it, a
// loop retries with backoff until it answers, and a request arriving in
// the meantime starts an attempt at once (at most one per second) and
// waits for it within Config.Timeout, so the first request after the
// authority comes back succeeds.
type provider struct {
	s      *settings
	ctx    context.Context
	cancel context.CancelFunc
	stop   func() bool // unregisters cancel from the caller's ctx
	wg     sync.WaitGroup

	current atomic.Pointer[remote]
	ready   chan struct{} // closed once current is set
	wake    chan struct{}

	mu        sync.Mutex
	attempt   chan struct{} // closed when the attempt under way (or the next) ends
	running   bool
	lastStart time.Time
	lastErr   error
	cause     context.Context // of the request that woke the loop, for an Observer

	outage      episode // failed attempts, logged as one run (see introspect_log.go)
	keysFailing episode // failed fetches of the keys, whichever attempt's key set made them
}

func newProvider(ctx context.Context, s *settings) (*provider, error) {
	p := &provider{s: s, ready: make(chan struct{}), wake: make(chan struct{}, 1), attempt: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	// The caller's ctx may end the background work, as documented on New.
	p.stop = context.AfterFunc(ctx, p.cancel)
	if s.StaticKeys != nil {
		keys, err := parseStaticKeys(s.StaticKeys)
		if err != nil {
			p.close()
			return nil, err
		}
		p.current.Store(&remote{issuer: s.issuer, keys: staticKeySet(keys)})
		close(p.ready)
		return p, nil
	}
	p.wg.Add(1)
	go p.run()
	return p, nil
}

// get returns the discovered authority, waiting for an attempt to
// discover it if none succeeded yet.
func (p *provider) get(ctx context.Context) (*remote, error) {
	if r := p.current.Load(); r != nil {
		return r, nil
	}
	p.mu.Lock()
	// An attempt may have succeeded since the load above: its lastErr is
	// then nil and its start recent, which would read as a failure too
	// recent to try again.
	if r := p.current.Load(); r != nil {
		p.mu.Unlock()
		return r, nil
	}
	attempt, since := p.attempt, time.Since(p.lastStart)
	if !p.running && since < minAttemptSpacing {
		err := p.lastErr
		p.mu.Unlock()
		return nil, errUnavailable(err, minAttemptSpacing-since)
	}
	if p.s.Observer != nil && p.cause == nil {
		p.cause = causeOf(ctx)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, p.s.Timeout)
	defer cancel()
	select {
	case <-attempt:
	case <-ctx.Done():
	case <-p.ctx.Done():
	}
	if r := p.current.Load(); r != nil {
		return r, nil
	}
	p.mu.Lock()
	err := p.lastErr
	p.mu.Unlock()
	if err == nil {
		err = errNotReady
	}
	return nil, errUnavailable(err, minAttemptSpacing)
}

func (p *provider) run() {
	defer p.wg.Done()
	backoff := 500 * time.Millisecond
	trigger := triggerStart
	for {
		p.mu.Lock()
		p.running, p.lastStart = true, time.Now()
		cause := p.cause
		if cause != nil && trigger != triggerStart {
			trigger = triggerRequest
		}
		p.cause = nil
		p.mu.Unlock()

		r, err := p.discover(cause, trigger)
		if err == nil {
			// Before the first request served says so.
			p.reachable()
			// Before waking the waiters, which look for it.
			p.current.Store(r)
		}

		p.mu.Lock()
		p.running, p.lastErr = false, err
		close(p.attempt)
		p.attempt = make(chan struct{})
		p.mu.Unlock()
		if err == nil {
			close(p.ready)
			return
		}
		if p.ctx.Err() != nil {
			return
		}
		p.unreachable(err)
		trigger = triggerRetry

		delay := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, maxBackoff)
		t := time.NewTimer(delay)
		select {
		case <-p.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-p.wake:
			t.Stop()
			p.mu.Lock()
			wait := minAttemptSpacing - time.Since(p.lastStart)
			p.mu.Unlock()
			if wait > 0 {
				select {
				case <-p.ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
	}
}

// unreachable logs a failed attempt to discover the authority if it is
// the first, or if logEvery has passed since the last line, with the
// number of attempts since then: retries with backoff would otherwise
// log a line a second while the authority is down.
func (p *provider) unreachable(err error) {
	first, n, since := p.outage.event(time.Now())
	if !first && n == 0 {
		return
	}
	p.s.Logger.WarnContext(p.ctx, "bearer: authority not reachable; "+p.s.consequence("requests get 503", "Introspect returns ErrUnavailable")+" until it is",
		"authority", redactURL(p.s.Authority), "error", err, "failures", n, "since", since)
}

// reachable logs the end of an outage, if attempts failed before this one.
func (p *provider) reachable() {
	if total, since, ok := p.outage.end(); ok {
		p.s.Logger.InfoContext(p.ctx, "bearer: authority reachable",
			"authority", redactURL(p.s.Authority), "failures", total, "since", since, "lasted", time.Since(since).Round(time.Millisecond))
	}
}

// discover fetches the metadata (unless Config.JWKSURL stands in for it)
// and, unless every token is introspected with unsigned responses, the
// first key set; both must succeed for the authority to be usable. cause
// and trigger are for an Observer: the request that woke the attempt, if
// one did (nil otherwise), and why it was made.
func (p *provider) discover(cause context.Context, trigger string) (*remote, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.s.Timeout)
	defer cancel()
	// Without a discovery document the configuration names the issuer and
	// the keys; from here on they are kept exactly as discovered ones.
	r, jwksURL := &remote{issuer: p.s.issuer}, p.s.JWKSURL
	if jwksURL == "" {
		start := time.Now()
		md, err := discover(ctx, p.s.HTTPClient, p.s.Authority)
		if p.s.Observer != nil {
			p.s.Observer.Refreshed(causeOf(cause), observe.Refresh{Document: "discovery", Trigger: trigger, Err: err, Start: start, Duration: time.Since(start)})
		}
		if err != nil {
			return nil, err
		}
		r, jwksURL = &remote{issuer: md.Issuer, introspectURL: md.IntrospectionEndpoint}, md.JWKSURI
	}
	// Every token introspected, with unsigned answers: the keys judge no
	// access token, only logout tokens, so they wait for the first one
	// rather than hold up readiness or cost a fetch an API never uses.
	// Signed introspection responses (RFC 9701) need them now.
	if p.s.Mode == ModeIntrospection && !p.s.IntrospectionJWT {
		if jwksURL != "" {
			r.keys, r.used = newKeySet(jwksURL, p), make(chan struct{})
			// Started here, where the attempt holds p.wg, so that it is
			// never added to while close waits.
			p.wg.Add(1)
			go func() {
				select {
				case <-r.used:
					r.keys.refreshEvery(p.s.KeyRefreshInterval) // calls p.wg.Done
				case <-p.ctx.Done():
					p.wg.Done()
				}
			}()
		}
		return r, nil
	}
	if jwksURL == "" {
		return nil, errors.New("discovery document has no jwks_uri")
	}
	r.keys = newKeySet(jwksURL, p)
	if err := r.keys.refresh(ctx, triggerStart); err != nil {
		return nil, err
	}
	p.wg.Add(1)
	go r.keys.refreshEvery(p.s.KeyRefreshInterval)
	return r, nil
}

// keysOf returns r's keys for a use other than an access token's (a
// logout token, KeySet). Keys left idle by discovery start their
// background refresh here; the first lookup finds the set empty and
// fetches it.
func (p *provider) keysOf(r *remote) *keySet {
	if r.used != nil {
		r.usedOnce.Do(func() { close(r.used) })
	}
	return r.keys
}

// waitReady blocks until the authority is discovered or ctx ends.
func (p *provider) waitReady(ctx context.Context) error {
	// Ready wins over an ended ctx: select would pick either at random.
	select {
	case <-p.ready:
		return nil
	default:
	}
	select {
	case <-p.ready:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		err := p.lastErr
		p.mu.Unlock()
		return joinErrors(ctx.Err(), err)
	}
}

func (p *provider) close() {
	p.stop()
	p.cancel()
	p.wg.Wait()
}
