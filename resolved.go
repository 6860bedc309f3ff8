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
// authorities. Everything here is guarded by multi.mu.
type resolved struct {
	by        map[string]*Validator // by issuer without a trailing slash
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
	r.by = make(map[string]*Validator)
	r.failed = make(map[string]time.Time)
}

// pace is a rate limit (GCRA): DefaultResolveBurst at once, then one per
// resolveInterval.
type pace struct{ full time.Time }

// wait is how long until another may start; none if ≤ 0.
func (p *pace) wait(now time.Time) time.Duration {
	return p.full.Add(-(DefaultResolveBurst - 1) * resolveInterval).Sub(now)
}

func (p *pace) take(now time.Time) {
	if p.full.Before(now) {
		p.full = now
	}
	p.full = p.full.Add(resolveInterval)
}

// maxProbation is how many authorities on probation are kept.
func (m *multi) maxProbation() int { return min(m.max, DefaultResolveBurst) }

// authority returns the authority for iss: a fixed one, or one Resolve
// allows, made on first use within the rate limit.
func (m *multi) authority(iss string) (*Validator, error) {
	key := issuerKey(iss)
	if v, ok := m.fixed[key]; ok {
		return v, nil
	}
	if m.resolve == nil || iss == "" {
		return nil, errInvalidToken(ErrIssuer)
	}
	tick := m.tick.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.resolved.by[key]; ok {
		v.used.Store(tick)
		return v, nil
	}
	now := time.Now()
	if until, ok := m.resolved.failed[key]; ok {
		if now.Before(until) {
			return nil, errUnavailable(errRecentlyFailed, until.Sub(now))
		}
		delete(m.resolved.failed, key)
	}
	cfg, err := m.admit(iss)
	if err != nil {
		return nil, err
	}
	st := m.issuers[key]
	proven := st != nil && st.proven
	budget := &m.resolved.fresh
	if proven {
		budget = &m.resolved.known
	}
	if wait := budget.wait(now); wait > 0 {
		return nil, errUnavailable(errors.New("too many new authorities at once"), wait)
	}
	if m.ctx.Err() != nil {
		return nil, errUnavailable(m.ctx.Err(), time.Second)
	}
	made := st == nil
	if made {
		st = m.newIssuerLocked(key, cfg)
	} else {
		st.configure(cfg)
	}
	child, err := m.newChild(cfg, st)
	if err != nil {
		if made {
			delete(m.issuers, key)
		}
		if first, n, _ := m.resolved.unusable.event(now); first || n > 0 {
			m.log.Error("bearer: Resolve returned an unusable Config; tokens refused", "iss", quoteShort(iss), "error", err, "count", max(n, 1))
		}
		return nil, errUnavailable(err, time.Second)
	}
	budget.take(now)
	child.used.Store(tick)
	// Recreating a proven issuer's authority: it is no stranger.
	child.proven.Store(proven)
	evicted := m.makeRoomLocked(proven, now)
	if !proven {
		m.resolved.probation++
	}
	m.resolved.by[key] = child
	if evicted {
		m.forgetLocked(now)
	}
	return child, nil
}

// admit asks Resolve about iss and checks its answer.
func (m *multi) admit(iss string) (Config, error) {
	cfg, ok := m.resolve(iss)
	if !ok {
		return cfg, errInvalidToken(ErrIssuer)
	}
	if cfg.Authority == "" {
		cfg.Authority = iss
	}
	if issuerKey(cfg.Authority) != issuerKey(iss) {
		if first, n, _ := m.resolved.mismatches.event(time.Now()); first || n > 0 {
			m.log.Error("bearer: Resolve returned a Config for another authority; tokens refused", "iss", quoteShort(iss), "authority", cfg.Authority, "count", max(n, 1))
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

// proven records that v verified a token: a resolved authority leaves
// probation, and its issuer keeps a budget of its own should its
// authority be closed and made again.
func (m *multi) proven(v *Validator) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v.proven.Load() {
		return
	}
	key := issuerKey(v.s.Authority)
	if st := m.issuers[key]; st != nil {
		st.proven = true
	}
	if m.resolved.by[key] != v {
		return // closed meanwhile
	}
	now := time.Now()
	evicted := m.makeRoomLocked(true, now) // before v counts among the proven
	v.proven.Store(true)
	m.resolved.probation--
	if evicted {
		m.forgetLocked(now)
	}
}

// makeRoomLocked closes the least recently used resolved authority of a
// class, proven or on probation, if the class is full, and reports
// whether it did. The states of issuers left without an authority are
// the caller's to forget, once the new authority is in place.
func (m *multi) makeRoomLocked(proven bool, now time.Time) bool {
	n, limit := m.resolved.probation, m.maxProbation()
	if proven {
		n, limit = len(m.resolved.by)-m.resolved.probation, m.max
	}
	if n < limit {
		return false
	}
	var oldest string
	var used int64
	for k, v := range m.resolved.by {
		if v.proven.Load() != proven {
			continue
		}
		if u := v.used.Load(); oldest == "" || u < used {
			oldest, used = k, u
		}
	}
	m.evictLocked(oldest, now)
	return true
}

// evictLocked closes a resolved authority. Its tokens in the shared cache
// are judged again by the next authority of its issuer, and its
// revocations stay with the issuer. Its background work ends in the
// background, so the request that made room does not wait for it.
func (m *multi) evictLocked(key string, now time.Time) {
	v := m.resolved.by[key]
	delete(m.resolved.by, key)
	v.evicted.Store(true)
	if st := m.issuers[key]; st != nil {
		st.used = v.used.Load()
	}
	if !v.proven.Load() {
		m.resolved.probation--
		v.p.mu.Lock()
		failed := v.p.lastErr != nil
		v.p.mu.Unlock()
		if failed && v.p.current.Load() == nil {
			m.rememberFailedLocked(key, now)
		}
	}
	m.closing.Add(1)
	go func() {
		defer m.closing.Done()
		v.Close()
	}()
}

// rememberFailedLocked refuses key for failedFor. When maxFailed issuers
// are remembered, those whose time is up are let go, or else any one: a
// made-up name forgotten costs a place again, within the pace.
func (m *multi) rememberFailedLocked(key string, now time.Time) {
	if len(m.resolved.failed) >= maxFailed {
		for k, until := range m.resolved.failed {
			if !now.Before(until) {
				delete(m.resolved.failed, k)
			}
		}
		for k := range m.resolved.failed {
			if len(m.resolved.failed) < maxFailed {
				break
			}
			delete(m.resolved.failed, k)
		}
	}
	m.resolved.failed[key] = now.Add(failedFor)
}
