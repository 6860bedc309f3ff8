package bearer

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// resolved are the authorities Resolve admitted, made from a token's iss
// before the token is verified. Since anyone can name an issuer, the
// authorities that have verified a token (proven) are kept apart from
// those that have not (on probation): a made-up name can push out only
// another name on probation, and each class has its own rate of new
// authorities. Everything here is guarded by Validator.mu.
type resolved struct {
	by        map[string]*authority // by issuer without a trailing slash
	probation int                   // how many of by have verified no token
	// failed holds the issuers whose discovery had failed when their
	// authority was closed, until when they are refused: a made-up
	// tenant takes a place once, not once per token.
	failed map[string]time.Time
	// fresh paces the authorities of issuers never proven, known those
	// of issuers proven before and made again.
	fresh, known pace
	// Logs of Resolve's mistakes, which a client can cause at will.
	mismatches, unusable episode
}

// How long an issuer whose discovery failed is refused, and how many such
// issuers are remembered (about what the pace lets in meanwhile).
const (
	failedFor = 30 * time.Second
	maxFailed = 1024
)

var errRecentlyFailed = errors.New("the authority's discovery failed recently")

func (r *resolved) init() {
	r.by = make(map[string]*authority)
	r.failed = make(map[string]time.Time)
}

// pace is a rate limit (GCRA): defaultResolveBurst at once, then one per
// resolveInterval.
type pace struct{ full time.Time }

// wait is how long until another may start; none if ≤ 0.
func (p *pace) wait(now time.Time) time.Duration {
	return p.full.Add(-(defaultResolveBurst - 1) * resolveInterval).Sub(now)
}

func (p *pace) take(now time.Time) {
	if p.full.Before(now) {
		p.full = now
	}
	p.full = p.full.Add(resolveInterval)
}

// maxProbation is how many authorities on probation are kept.
func (v *Validator) maxProbation() int { return min(v.max, defaultResolveBurst) }

// byIssuer returns the authority for iss: a fixed one, or one Resolve
// allows, made on first use within the rate limit.
func (v *Validator) byIssuer(iss string) (*authority, error) {
	key := issuerKey(iss)
	if a, ok := v.fixed[key]; ok {
		return a, nil
	}
	if v.resolve == nil || iss == "" {
		return nil, errInvalidToken(ErrIssuer)
	}
	tick := v.tick.Add(1)
	v.mu.Lock()
	defer v.mu.Unlock()
	if a, ok := v.resolved.by[key]; ok {
		a.lease.used.Store(tick)
		return a, nil
	}
	now := time.Now()
	if until, ok := v.resolved.failed[key]; ok {
		if now.Before(until) {
			return nil, errUnavailable(errRecentlyFailed, until.Sub(now))
		}
		delete(v.resolved.failed, key)
	}
	cfg, err := v.admit(iss)
	if err != nil {
		return nil, err
	}
	st := v.issuers[key]
	proven := st != nil && st.proven
	budget := &v.resolved.fresh
	if proven {
		budget = &v.resolved.known
	}
	if wait := budget.wait(now); wait > 0 {
		return nil, errUnavailable(errors.New("too many new authorities at once"), wait)
	}
	if v.ctx.Err() != nil {
		return nil, errUnavailable(v.ctx.Err(), time.Second)
	}
	made := st == nil
	if made {
		st = v.newIssuerLocked(key, cfg)
	} else {
		st.configure(cfg)
	}
	a, err := v.startAuthority(cfg, st)
	if err != nil {
		if made {
			delete(v.issuers, key)
		}
		if first, n, _ := v.resolved.unusable.event(now); first || n > 0 {
			v.log.Error("bearer: Resolve returned an unusable Config; tokens refused", "iss", quoteShort(iss), "error", err, "count", max(n, 1))
		}
		return nil, errUnavailable(err, time.Second)
	}
	budget.take(now)
	a.lease = &lease{}
	a.lease.used.Store(tick)
	// Recreating a proven issuer's authority: it is no stranger.
	a.lease.proven.Store(proven)
	evicted := v.makeRoomLocked(proven, now)
	if !proven {
		v.resolved.probation++
	}
	v.resolved.by[key] = a
	if evicted {
		v.forgetLocked(now)
	}
	return a, nil
}

// admit asks Resolve about iss and checks its answer.
func (v *Validator) admit(iss string) (Config, error) {
	cfg, ok := v.resolve(iss)
	if !ok {
		return cfg, errInvalidToken(ErrIssuer)
	}
	if cfg.Authority == "" {
		cfg.Authority = iss
	}
	if issuerKey(cfg.Authority) != issuerKey(iss) {
		if first, n, _ := v.resolved.mismatches.event(time.Now()); first || n > 0 {
			v.log.Error("bearer: Resolve returned a Config for another authority; tokens refused", "iss", quoteShort(iss), "authority", cfg.Authority, "count", max(n, 1))
		}
		return cfg, errInvalidToken(ErrIssuer)
	}
	return cfg, nil
}

// quoteShort quotes an unverified iss for a log, cut to 100 bytes: a
// token may hold 16 KiB of anything.
func quoteShort(s string) string {
	const limit = 100
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// proven records that a verified a token: a resolved authority leaves
// probation, and its issuer keeps a budget of its own should its
// authority be closed and made again.
func (v *Validator) proven(a *authority) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if a.lease.proven.Load() {
		return
	}
	key := issuerKey(a.s.Authority)
	if st := v.issuers[key]; st != nil {
		st.proven = true
	}
	if v.resolved.by[key] != a {
		return // closed meanwhile
	}
	now := time.Now()
	evicted := v.makeRoomLocked(true, now) // before a counts among the proven
	a.lease.proven.Store(true)
	v.resolved.probation--
	if evicted {
		v.forgetLocked(now)
	}
}

// makeRoomLocked closes the least recently used resolved authority of a
// class, proven or on probation, if the class is full, and reports
// whether it did. The states of issuers left without an authority are
// the caller's to forget, once the new authority is in place.
func (v *Validator) makeRoomLocked(proven bool, now time.Time) bool {
	n, limit := v.resolved.probation, v.maxProbation()
	if proven {
		n, limit = len(v.resolved.by)-v.resolved.probation, v.max
	}
	if n < limit {
		return false
	}
	var oldest string
	var used int64
	for k, a := range v.resolved.by {
		if a.lease.proven.Load() != proven {
			continue
		}
		if u := a.lease.used.Load(); oldest == "" || u < used {
			oldest, used = k, u
		}
	}
	v.evictLocked(oldest, now)
	return true
}

// evictLocked closes a resolved authority. Its tokens in the shared cache
// are judged again by the next authority of its issuer, and its
// revocations stay with the issuer. Its background work ends in the
// background, so the request that made room does not wait for it.
func (v *Validator) evictLocked(key string, now time.Time) {
	a := v.resolved.by[key]
	delete(v.resolved.by, key)
	a.lease.evicted.Store(true)
	if st := v.issuers[key]; st != nil {
		st.used = a.lease.used.Load()
	}
	if !a.lease.proven.Load() {
		v.resolved.probation--
		a.p.mu.Lock()
		failed := a.p.lastErr != nil
		a.p.mu.Unlock()
		if failed && a.p.current.Load() == nil {
			v.rememberFailedLocked(key, now)
		}
	}
	v.closing.Add(1)
	go func() {
		defer v.closing.Done()
		a.close()
	}()
}

// rememberFailedLocked refuses key for failedFor. When maxFailed issuers
// are remembered, those whose time is up are let go, or else any one: a
// made-up name forgotten costs a place again, within the pace.
func (v *Validator) rememberFailedLocked(key string, now time.Time) {
	if len(v.resolved.failed) >= maxFailed {
		for k, until := range v.resolved.failed {
			if !now.Before(until) {
				delete(v.resolved.failed, k)
			}
		}
		for k := range v.resolved.failed {
			if len(v.resolved.failed) < maxFailed {
				break
			}
			delete(v.resolved.failed, k)
		}
	}
	v.resolved.failed[key] = now.Add(failedFor)
}
