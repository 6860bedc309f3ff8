package bearer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accesstoken/bearer/observe"
)

// keyFetchBurst is how many fetches tokens with unknown kids may cause in
// a row before KeyRefreshWindow spaces them out: enough that a burst of
// such tokens followed at once by a rotation still finds a fetch free.
const keyFetchBurst = 3

// Absent kids: how long a kid that a fetch begun after the request showed
// missing is answered 401 without another fetch, and how many are kept.
const (
	absentKidTTL = 10 * time.Second
	maxAbsentKid = 1024
)

// maxKeyWaiters bounds the distinct kids that requests wait for at once,
// for a fetch of the keys because their tokens name a kid not yet known;
// a request naming yet another gets 503 at once. Tokens with made-up
// kids, each new, would otherwise hold requests, and their memory,
// without bound. Requests naming a kid already waited for join the wait
// without a count of their own: at a rotation every token of the new key
// names the same kid, and a busy API can have thousands of them waiting
// while the rate limit spaces fetches (the soak found 256 requests too
// few, and good tokens answered 503). A flood naming one made-up kid is
// held for one fetch at most, and then refused at once for absentKidTTL.
const maxKeyWaiters = 256

// errKeyWaiters is the cause of a 503 for a request beyond maxKeyWaiters.
var errKeyWaiters = errors.New("too many requests waiting for the authority's keys")

// keySet holds the authority's signing keys: a snapshot replaced whole on
// each successful fetch, so readers never lock. The last good snapshot
// stays in use while the JWKS endpoint fails or serves no usable key.
//
// Fetches are numbered. A caller that needs the keys as they are now asks
// for the next fetch to begin and waits for that number: a fetch already
// under way when it arrived may predate a key published since, so it
// never refuses, though a key it brings ends the wait. One loop runs the
// fetches that callers wait for, spaced by a rate limit for fetches
// caused by unknown kids; the limit only delays them, it never answers
// for the authority.
type keySet struct {
	url     string // empty for static keys
	client  *http.Client
	log     *slog.Logger
	timeout time.Duration
	window  time.Duration
	ctx     context.Context // ends with the Validator
	wg      *sync.WaitGroup
	obs     observe.Observer // nil if none
	maxAge  time.Duration    // Config.MaxKeySetAge; 0 for none

	keys atomic.Pointer[[]*publicKey]
	// tooOld is when the keys in use grow older than maxAge, in Unix
	// nanoseconds, while fetches fail; 0 while the latest one succeeded.
	tooOld atomic.Int64

	mu      sync.Mutex
	started uint64        // fetches begun; the first is 1
	done    uint64        // the latest fetch that ended
	lastErr error         // and its result
	ended   chan struct{} // closed, then replaced, whenever a fetch ends
	wanted  uint64        // the latest fetch a caller waits for
	urgent  bool          // that fetch is not rate-limited (discovery, the refresh loop)
	noCache bool          // that fetch is for an unknown kid: caches must ask the authority
	running bool          // the fetch loop is running
	kick    chan struct{} // wakes the loop from a rate-limit wait for an urgent fetch
	// full is when the rate limit's bucket is full again (a GCRA): a
	// limited fetch may start once full-now is at most
	// (keyFetchBurst-1)*window.
	full    time.Time
	absent  map[string]time.Time // kid → when a post-arrival fetch showed it missing
	waiting map[string]int       // kid → its lookups waiting for a fetch; at most maxKeyWaiters kids
	crowded episode              // lookups refused at maxKeyWaiters, logged as a run
	failing *episode             // failed fetches, logged as a run: the provider's, which outlives a failed discovery's key set

	// For an Observer and Status: what caused the fetch wanted next (the
	// first to ask for it), and when the keys in use were fetched.
	trigger string
	cause   context.Context
	fetched time.Time

	// The last JWK Set read and what reading it gave, so that the set
	// fetched again unchanged is neither parsed nor logged again. Only
	// the fetch loop, one fetch at a time, touches it.
	last struct {
		read   bool
		digest [sha256.Size]byte
		err    error
		rv     revalidation // to ask the authority whether it changed
	}
}

// newKeySet returns the key set at url of p's authority, which ends with
// p's background work.
func newKeySet(url string, p *provider) *keySet {
	s := p.s
	return &keySet{
		url: url, client: s.HTTPClient, log: s.Logger, timeout: s.Timeout, window: s.KeyRefreshWindow, maxAge: s.MaxKeySetAge,
		ctx: p.ctx, wg: &p.wg, obs: s.Observer, ended: make(chan struct{}), kick: make(chan struct{}, 1),
		failing: &p.keysFailing,
	}
}

func staticKeySet(keys []*publicKey) *keySet {
	ks := &keySet{}
	ks.keys.Store(&keys)
	return ks
}

// maxCandidates bounds the signature checks one token can cause when kids
// are absent or duplicated.
const maxCandidates = 4

// candidates returns, in buf, the keys that may verify a token with kid
// and alg. Keys without a kid (static keys, some JWK Sets) fit any kid.
func (ks *keySet) candidates(kid, alg string, buf *[maxCandidates]*publicKey) []*publicKey {
	snapshot := ks.keys.Load()
	if snapshot == nil {
		return nil
	}
	out := buf[:0]
	for _, k := range *snapshot {
		if (kid == "" || k.kid == "" || k.kid == kid) && k.fits(alg) {
			out = append(out, k)
			if len(out) == maxCandidates {
				break
			}
		}
	}
	return out
}

// lookup returns the keys for kid and alg. When none fits, the token is
// refused only once a fetch begun after this call shows none either, so a
// key published a moment ago verifies the very token that revealed it;
// any fetch that brings the key ends the wait. Concurrent callers share
// the fetches. A caller that cannot get one within Timeout (the authority
// slow, or the rate limit) gets 503: its token was not judged; so does
// one naming a kid beyond the maxKeyWaiters kids that requests wait for.
// The keys are returned in buf.
func (ks *keySet) lookup(ctx context.Context, kid, alg string, buf *[maxCandidates]*publicKey) ([]*publicKey, error) {
	if at := ks.tooOld.Load(); at != 0 && time.Now().UnixNano() >= at {
		if err := ks.stale(ctx); err != nil {
			return nil, err
		}
	}
	if c := ks.candidates(kid, alg, buf); len(c) > 0 {
		return c, nil
	}
	// A kid the set holds for a key that does not fit alg is no proof that
	// a fetch would not find one that does: keys of several types may
	// share a kid (FAPI 2.0), and the authority may have published one
	// since. The absent kids below bound what such tokens cost.
	if ks.url == "" {
		return nil, errInvalidToken(ErrUnknownKey)
	}
	ks.mu.Lock()
	if at, ok := ks.absent[kid]; ok && time.Since(at) < absentKidTTL {
		ks.mu.Unlock()
		return nil, errInvalidToken(ErrUnknownKey)
	}
	if ks.waiting[kid] == 0 && len(ks.waiting) >= maxKeyWaiters {
		retry := time.Until(ks.earliestLimitedLocked())
		ks.mu.Unlock()
		if first, n, since := ks.crowded.event(time.Now()); first || n > 0 {
			ks.log.WarnContext(ctx, "bearer: too many requests wait for the authority's keys; more tokens with unknown kids get 503",
				"url", redactURL(ks.url), "limit", maxKeyWaiters, "refused", n, "since", since)
		}
		return nil, errUnavailable(errKeyWaiters, retry)
	}
	if ks.waiting == nil {
		ks.waiting = make(map[string]int)
	}
	if _, ok := ks.waiting[kid]; !ok {
		kid = strings.Clone(kid) // kid may be a slice of a buffer the caller reuses
	}
	ks.waiting[kid]++
	n := ks.requestLocked(ctx, triggerUnknownKid)
	ks.mu.Unlock()
	// A fetch under way when the request came may bring the key: it
	// cannot refuse the token, but it can let it through.
	err := ks.await(ctx, n, func() bool { return len(ks.candidates(kid, alg, buf)) > 0 })
	ks.mu.Lock()
	if ks.waiting[kid]--; ks.waiting[kid] == 0 {
		delete(ks.waiting, kid)
	}
	idle := len(ks.waiting) == 0
	ks.mu.Unlock()
	if idle {
		if total, since, ok := ks.crowded.end(); ok {
			ks.log.InfoContext(ctx, "bearer: no request waits for the authority's keys any more",
				"url", redactURL(ks.url), "limit", maxKeyWaiters, "refused", total, "since", since)
		}
	}
	if err != nil {
		return nil, err
	}
	if c := ks.candidates(kid, alg, buf); len(c) > 0 {
		return c, nil
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.lastErr != nil {
		return nil, errUnavailable(fmt.Errorf("JWKS: %w", ks.lastErr), ks.window)
	}
	if kid != "" {
		if len(ks.absent) >= maxAbsentKid {
			clear(ks.absent)
		}
		if ks.absent == nil {
			ks.absent = make(map[string]time.Time)
		}
		// A copy: kid may be a slice of a buffer the caller reuses.
		ks.absent[strings.Clone(kid)] = time.Now()
	}
	return nil, errInvalidToken(ErrUnknownKey)
}

// stale is the 503 of a token that needs keys older than MaxKeySetAge,
// or nil if a fetch has just succeeded. It asks for a fetch, rate-limited
// as those for unknown kids, so that the keys are used again soon after
// the endpoint recovers, without waiting for the refresh loop's backoff;
// the request does not wait for it.
func (ks *keySet) stale(ctx context.Context) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.lastErr == nil {
		return nil
	}
	ks.requestLocked(ctx, triggerStale)
	return errUnavailable(fmt.Errorf("JWKS: keys fetched %v ago, longer than MaxKeySetAge, and the latest fetch failed: %w",
		time.Since(ks.fetched).Round(time.Second), ks.lastErr), ks.window)
}

// refresh fetches the key set now, not rate-limited, and returns the
// result of a fetch begun after the call. trigger says why, for an
// Observer.
func (ks *keySet) refresh(ctx context.Context, trigger string) error {
	ks.mu.Lock()
	n := ks.requestLocked(ctx, trigger)
	ks.mu.Unlock()
	if err := ks.await(ctx, n, nil); err != nil {
		return err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.lastErr
}

// requestLocked asks for a fetch that begins after now and returns its
// number, starting the fetch loop if it is not running. Only fetches for
// unknown kids and for keys grown older than MaxKeySetAge are
// rate-limited: requests cause them.
func (ks *keySet) requestLocked(ctx context.Context, trigger string) uint64 {
	n := ks.started + 1
	if n > ks.wanted && ks.obs != nil {
		ks.trigger, ks.cause = trigger, causeOf(ctx)
	}
	ks.wanted = max(ks.wanted, n)
	switch trigger {
	case triggerUnknownKid:
		// The caller knows the keys it has are stale: a cache on the
		// way must not answer for the authority.
		ks.noCache = true
	case triggerStale:
	default:
		ks.urgent = true
		select {
		case ks.kick <- struct{}{}:
		default:
		}
	}
	if !ks.running && ks.ctx.Err() == nil {
		ks.running = true
		ks.wg.Add(1)
		go ks.loop()
	}
	return n
}

// await waits for fetch n to end, or for an earlier one to end with found
// true if found is not nil. It fails only if the wait does: the fetch's
// own result is in lastErr.
func (ks *keySet) await(ctx context.Context, n uint64, found func() bool) error {
	// A caller's earlier deadline stands (WithTimeout keeps it).
	ctx, cancel := context.WithTimeout(ctx, ks.timeout)
	defer cancel()
	for {
		ks.mu.Lock()
		if ks.done >= n {
			ks.mu.Unlock()
			return nil
		}
		ended, retry := ks.ended, time.Until(ks.earliestLimitedLocked())
		closed := ks.ctx.Err()
		ks.mu.Unlock()
		if closed != nil {
			return errUnavailable(fmt.Errorf("JWKS: %w", closed), time.Second)
		}
		// Looked at after taking ended: a fetch ends only after using
		// its keys, so one that brings them later still wakes the wait.
		if found != nil && found() {
			return nil
		}
		select {
		case <-ended:
		case <-ks.ctx.Done():
		case <-ctx.Done():
			return errUnavailable(fmt.Errorf("waiting for JWKS: %w", ctx.Err()), retry)
		}
	}
}

// loop runs the fetches callers wait for, one at a time, detached from
// any caller's context so that one giving up does not fail it for the
// others. It ends when no one waits, or with the Validator.
func (ks *keySet) loop() {
	defer ks.wg.Done()
	for {
		ks.mu.Lock()
		if ks.wanted <= ks.done || ks.ctx.Err() != nil {
			ks.running = false
			ks.mu.Unlock()
			return
		}
		now := time.Now()
		if !ks.urgent {
			if wait := ks.earliestLimitedLocked().Sub(now); wait > 0 {
				ks.mu.Unlock()
				t := time.NewTimer(wait)
				select {
				case <-ks.ctx.Done():
				case <-ks.kick:
				case <-t.C:
				}
				t.Stop()
				continue
			}
			if ks.full.Before(now) {
				ks.full = now
			}
			ks.full = ks.full.Add(ks.window)
		}
		ks.urgent = false
		ks.started++
		n, trigger, cause, noCache := ks.started, ks.trigger, ks.cause, ks.noCache
		ks.cause, ks.noCache = nil, false
		ks.mu.Unlock()

		start := time.Now()
		ctx, cancel := context.WithTimeout(ks.ctx, ks.timeout)
		skipped, err := ks.fetch(ctx, noCache)
		cancel()
		if ks.obs != nil {
			ks.observe(cause, trigger, err, skipped, start)
		}

		ks.mu.Lock()
		ks.done, ks.lastErr = n, err
		switch {
		case err == nil:
			ks.fetched = time.Now()
			ks.tooOld.Store(0)
		case ks.maxAge > 0 && !ks.fetched.IsZero() && ks.ctx.Err() == nil:
			ks.tooOld.Store(ks.fetched.Add(ks.maxAge).UnixNano())
		}
		close(ks.ended)
		ks.ended = make(chan struct{})
		ks.mu.Unlock()
	}
}

// observe reports a fetch that began at start to the Observer.
func (ks *keySet) observe(cause context.Context, trigger string, err error, skipped map[string]int, start time.Time) {
	e := observe.Refresh{Document: "jwks", Trigger: trigger, Err: err, Skipped: skipped, Start: start, Duration: time.Since(start)}
	if err == nil {
		e.Keys = len(*ks.keys.Load())
	}
	ks.obs.Refreshed(causeOf(cause), e)
}

// earliestLimitedLocked is when the rate limit lets the next fetch caused
// by an unknown kid begin.
func (ks *keySet) earliestLimitedLocked() time.Time {
	return ks.full.Add(-(keyFetchBurst - 1) * ks.window)
}

// errNoUsableKey is a JWKS that parsed but left no key to use: a failed
// refresh, never a key set that refuses every token.
var errNoUsableKey = errors.New("JWK Set has no usable key")

// fetch gets the JWK Set and uses its keys. It asks whether the set
// changed since the last fetch if the authority offered a way (ETag,
// Last-Modified), and with noCache asks caches on the way to check with
// the authority. It returns, for an Observer, the keys it skipped by
// reason, only when the set changed since the last fetch: each odd key is
// then logged and counted once, however often the set is fetched again
// unchanged.
func (ks *keySet) fetch(ctx context.Context, noCache bool) (skipped map[string]int, err error) {
	var rv revalidation
	if ks.last.read {
		rv = ks.last.rv
	}
	doc, err := getDocument(ctx, ks.client, ks.url, rv, noCache)
	if err != nil {
		if ks.ctx.Err() == nil { // a shutdown is not a failure
			ks.failed(ctx, slog.LevelWarn, "bearer: JWKS fetch failed; keeping the last good keys", err)
		}
		return nil, err
	}
	// A 304 is the set as last read: its keys, or its fault, stand.
	if !doc.notModified {
		if sum := sha256.Sum256(doc.body); !ks.last.read || sum != ks.last.digest {
			ks.last.digest = sum
			skipped, ks.last.err = ks.read(ctx, doc.body)
		}
		ks.last.read, ks.last.rv = true, doc.rv
	}
	if err := ks.last.err; err != nil {
		ks.failed(ctx, slog.LevelError, "bearer: JWKS unusable; keeping the last good keys", err)
		return skipped, err
	}
	if total, since, ok := ks.failing.end(); ok {
		ks.log.InfoContext(ctx, "bearer: JWKS fetched again", "url", redactURL(ks.url), "failures", total, "since", since)
	}
	return skipped, nil
}

// byReason spells counts of skipped keys as "malformed: 2, weak_key: 1".
func byReason(counts map[string]int) string {
	var b strings.Builder
	for _, reason := range slices.Sorted(maps.Keys(counts)) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", reason, counts[reason])
	}
	return b.String()
}

// maxSkipLogs bounds the lines one change of the set logs for the keys
// it skips: a set may hold thousands.
const maxSkipLogs = 8

// loggedKid is kid cut to 64 bytes: a set of 1 MiB may hold a kid of
// nearly that.
func loggedKid(kid string) string {
	const limit = 64
	if len(kid) <= limit {
		return kid
	}
	return strings.ToValidUTF8(kid[:limit], "") + "…"
}

// read parses body, a JWK Set other than the last one read, logs the keys
// it skips and uses its keys, if any is usable. It returns the skipped
// keys by reason.
func (ks *keySet) read(ctx context.Context, body []byte) (map[string]int, error) {
	keys, skipped, err := parseJWKS(body)
	if err != nil {
		return nil, err
	}
	var counts map[string]int
	for i, k := range skipped {
		if counts == nil {
			counts = make(map[string]int)
		}
		counts[k.reason]++
		if i == maxSkipLogs {
			ks.log.WarnContext(ctx, "bearer: more JWKS keys skipped", "url", redactURL(ks.url), "keys", len(skipped)-i)
		}
		if i >= maxSkipLogs {
			continue
		}
		// Encryption keys belong in a JWK Set (RFC 7517 §4.2): no fault.
		level := slog.LevelWarn
		if k.reason == skipEncryption {
			level = slog.LevelInfo
		}
		ks.log.Log(ctx, level, "bearer: JWKS key skipped; the others are used", "url", redactURL(ks.url),
			"index", k.index, "kid", loggedKid(k.kid), "reason", k.reason, "error", k.err)
	}
	if len(keys) == 0 {
		return counts, fmt.Errorf("%w (%d skipped: %s)", errNoUsableKey, len(skipped), byReason(counts))
	}
	ks.replace(keys)
	return counts, nil
}

// failed logs a failed fetch at level if it begins a run of failures, or
// if logEvery has passed since the last line, with the number of failures
// since then: retries while discovery waits for the keys, or the refresh
// loop's, would otherwise log a line each.
func (ks *keySet) failed(ctx context.Context, level slog.Level, msg string, err error, attrs ...any) {
	first, n, since := ks.failing.event(time.Now())
	if !first && n == 0 {
		return
	}
	ks.log.Log(ctx, level, msg, append([]any{"url", redactURL(ks.url), "error", err, "failures", n, "since", since}, attrs...)...)
}

// replace publishes keys as the new snapshot. A key that is still
// published keeps its old object, so what it verified stays cached; the
// keys that are gone are marked retired.
func (ks *keySet) replace(keys []*publicKey) {
	var old []*publicKey
	if p := ks.keys.Load(); p != nil {
		old = *p
	}
	kept := make(map[*publicKey]bool, len(old))
	for i, k := range keys {
		for _, o := range old {
			if !kept[o] && o.sameAs(k) {
				keys[i] = o
				kept[o] = true
				break
			}
		}
	}
	ks.keys.Store(&keys)
	for _, o := range old {
		if !kept[o] {
			o.retired.Store(true)
		}
	}
}

// Backoff of the refresh loop after a failed refresh.
const (
	minRefreshRetry = time.Second
	maxRefreshRetry = 5 * time.Minute
)

// refreshEvery refreshes the key set until ks.ctx ends, with ±10% jitter
// so that many replicas do not hit the authority in step.
func (ks *keySet) refreshEvery(interval time.Duration) {
	defer ks.wg.Done()
	delay, retry := interval, minRefreshRetry
	for {
		jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(delay))
		t := time.NewTimer(delay + jitter)
		select {
		case <-ks.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		err := ks.refresh(ks.ctx, triggerInterval)
		delay, retry = nextRefresh(interval, retry, err != nil && ks.ctx.Err() == nil)
	}
}

// nextRefresh returns the wait before the next background refresh and the
// retry delay after that one: after a failure the key set is fetched again
// sooner, backing off from minRefreshRetry up to the interval.
func nextRefresh(interval, retry time.Duration, failed bool) (delay, nextRetry time.Duration) {
	if !failed {
		return interval, minRefreshRetry
	}
	return min(retry, interval), min(2*retry, maxRefreshRetry)
}
