package bearer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A Validator of several authorities keeps the revocations of each issuer
// itself, not in the authority object that serves the issuer now: a
// resolved authority is closed to make room and made again at will, and
// made from a token's unverified iss, so anything it held would be
// forgotten whenever a client chose. The logout tokens and DPoP proofs
// seen are likewise the parent's (multi.store, multi.replay), shared by
// every authority.

// issuerState is what a Validator of several authorities keeps of one
// issuer, whichever authority serves it.
type issuerState struct {
	revocations *revocationIndex
	// limit is Config.revocationLimit of the issuer's authority, for
	// revocations that arrive while none is open.
	limit time.Duration
	// proven: an authority of the issuer verified a token, so the issuer
	// is real and its authority, made again, has a budget of its own.
	proven bool
	used   int64 // the tick its last authority was last used, for forgetting
}

// newIssuerLocked makes the state of the issuer whose authority cfg
// configures. Each time the states have doubled since they were last
// looked over, those no longer needed are let go first, so that states
// made by revocations (from the store, for issuers never seen here) go
// too when no authority is ever closed.
func (m *multi) newIssuerLocked(key string, cfg Config) *issuerState {
	if len(m.issuers) >= m.tidyAt {
		m.forgetLocked(time.Now())
		m.tidyAt = 2*len(m.issuers) + 64
	}
	st := &issuerState{revocations: newRevocationIndex(m.log, maxRevocations)}
	st.configure(cfg)
	m.issuers[key] = st
	return st
}

// configure takes the revocation limit of cfg, which may be another
// Config than the last one Resolve gave.
func (st *issuerState) configure(cfg Config) {
	s := settings{Config: cfg, leeway: cfg.leeway()}
	st.limit = s.revocationLimit()
}

// issuerLocked returns the state of iss: a fixed authority's, one kept,
// or, for an issuer Resolve admits, a new one.
func (m *multi) issuerLocked(iss string) (*issuerState, error) {
	key := issuerKey(iss)
	if st, ok := m.issuers[key]; ok {
		return st, nil
	}
	if m.resolve == nil || iss == "" {
		return nil, errNotAuthority
	}
	cfg, err := m.admit(iss)
	if err != nil {
		return nil, errNotAuthority
	}
	return m.newIssuerLocked(key, cfg), nil
}

var errNotAuthority = errors.New("bearer: Revocation.Issuer names none of the Validator's authorities")

// applyRevocation applies r to the revocations of the issuer it names.
// It holds m.mu meanwhile, so that the state cannot be forgotten between
// the look-up and the change.
func (m *multi) applyRevocation(r *Revocation, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, err := m.issuerLocked(r.Issuer)
	if err != nil {
		return false, err
	}
	return applyRevocation(st.revocations, st.limit, r, now)
}

// revoke is Revoke for a Validator of several authorities.
func (m *multi) revoke(ctx context.Context, r Revocation) error {
	if r.Issuer == "" {
		return errors.New("bearer: Revoke on a Validator of several authorities needs Revocation.Issuer")
	}
	if _, err := m.applyRevocation(&r, time.Now()); err != nil {
		return err
	}
	return m.store.Revoke(ctx, r)
}

// deliver applies a revocation from the store to its issuer. One that
// names an issuer none of the authorities serves is another API's, and
// ignored; one without an issuer, made before revocations named one,
// holds for every issuer kept now.
func (m *multi) deliver(r Revocation) error {
	if r.Issuer != "" {
		_, err := m.applyRevocation(&r, time.Now())
		if errors.Is(err, errNotAuthority) {
			return nil
		}
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for _, st := range m.issuers {
		c := r
		if _, err := applyRevocation(st.revocations, st.limit, &c, now); err != nil {
			return err
		}
	}
	return nil
}

// judgeOf returns the issuer of the authority that would judge token:
// the one its iss names, or for a reference token the one that
// introspects them.
func (m *multi) judgeOf(token string) (string, error) {
	if !looksLikeJWS(token) {
		if m.reference == nil {
			return "", errors.New("bearer: RevokeToken of a reference token, which no authority of this Validator introspects")
		}
		return m.reference.s.Authority, nil
	}
	if len(token) > m.maxSize {
		return "", errInvalidToken(ErrTooLarge)
	}
	iss, err := peekIssuer(token)
	if err != nil {
		return "", err
	}
	if iss == "" {
		return "", fmt.Errorf("bearer: RevokeToken of a token without iss: %w", errNotAuthority)
	}
	return iss, nil
}

// forgetLocked lets go of the states no longer needed: those of resolved
// issuers without an authority or a revocation in force, but for the
// m.max most recently used proven ones, whose authority, made again, keeps
// its own budget.
func (m *multi) forgetLocked(now time.Time) {
	var idle []string
	for key, st := range m.issuers {
		if m.fixed[key] != nil || m.resolved.by[key] != nil || st.revocations.live(now) > 0 {
			continue
		}
		if !st.proven {
			delete(m.issuers, key)
			continue
		}
		idle = append(idle, key)
	}
	if len(idle) <= m.max {
		return
	}
	slices.SortFunc(idle, func(a, b string) int { return cmp.Compare(m.issuers[a].used, m.issuers[b].used) })
	for _, key := range idle[:len(idle)-m.max] {
		delete(m.issuers, key)
	}
}

// revocationCount is Status.Revocations for every issuer.
func (m *multi) revocationCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, st := range m.issuers {
		n += st.revocations.len()
	}
	return n
}
