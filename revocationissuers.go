package bearer

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A Validator keeps the revocations of each issuer itself, not in the
// authority object that serves the issuer now: a resolved authority is
// closed to make room and made again at will, and made from a token's
// unverified iss, so anything it held would be forgotten whenever a
// client chose. The logout tokens and DPoP proofs seen are likewise the
// Validator's (store, replay), shared by every authority.

// issuerState is what a Validator keeps of one issuer, whichever
// authority serves it.
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
func (v *Validator) newIssuerLocked(key string, cfg Config) *issuerState {
	if len(v.issuers) >= v.tidyAt {
		v.forgetLocked(time.Now())
		v.tidyAt = 2*len(v.issuers) + 64
	}
	st := &issuerState{revocations: newRevocationIndex(v.log, maxRevocations)}
	st.configure(cfg)
	v.issuers[key] = st
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
func (v *Validator) issuerLocked(iss string) (*issuerState, error) {
	key := issuerKey(iss)
	if st, ok := v.issuers[key]; ok {
		return st, nil
	}
	if v.resolve == nil || iss == "" {
		return nil, ErrNotAuthority
	}
	cfg, err := v.admit(iss)
	if err != nil {
		return nil, ErrNotAuthority
	}
	return v.newIssuerLocked(key, cfg), nil
}

// ErrNotAuthority is Revoke's error for a Revocation whose Issuer names
// none of the Validator's authorities: the tokens it would refuse are
// another API's. A caller that revokes on a third party's word (a Shared
// Signals transmitter, package signals) tells it from a store that failed.
var ErrNotAuthority = errors.New("bearer: Revocation.Issuer names none of the Validator's authorities")

// applyRevocation applies r to the revocations of the issuer it names.
// It holds v.mu meanwhile, so that the state cannot be forgotten between
// the look-up and the change.
func (v *Validator) applyRevocation(r *Revocation, now time.Time) (bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st, err := v.issuerLocked(r.Issuer)
	if err != nil {
		return false, err
	}
	return applyRevocation(st.revocations, st.limit, r, now)
}

// deliver applies a revocation from the store to its issuer. One that
// names an issuer none of the authorities serves is another API's, and
// ignored; one without an issuer, made before revocations named one,
// holds for every issuer kept now.
func (v *Validator) deliver(r Revocation) error {
	if r.Issuer != "" {
		_, err := v.applyRevocation(&r, time.Now())
		if errors.Is(err, ErrNotAuthority) {
			return nil
		}
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now()
	for _, st := range v.issuers {
		c := r
		if _, err := applyRevocation(st.revocations, st.limit, &c, now); err != nil {
			return err
		}
	}
	return nil
}

// judgeOf returns the issuer of the authority that would judge token:
// New's, or the one its iss names, or for a reference token the one that
// introspects them.
func (v *Validator) judgeOf(token string) (string, error) {
	if v.sole != nil {
		return v.sole.s.Authority, nil
	}
	if !looksLikeJWS(token) {
		if v.reference == nil {
			return "", errors.New("bearer: RevokeToken of a reference token, which no authority of this Validator introspects")
		}
		return v.reference.s.Authority, nil
	}
	if len(token) > v.maxSize {
		return "", errInvalidToken(ErrTooLarge)
	}
	iss, err := peekIssuer(token)
	if err != nil {
		return "", err
	}
	if iss == "" {
		return "", fmt.Errorf("bearer: RevokeToken of a token without iss: %w", ErrNotAuthority)
	}
	return iss, nil
}

// forgetLocked lets go of the states no longer needed: those of resolved
// issuers without an authority or a revocation in force, but for the
// v.max most recently used proven ones, whose authority, made again, keeps
// its own budget.
func (v *Validator) forgetLocked(now time.Time) {
	var idle []string
	for key, st := range v.issuers {
		if v.fixed[key] != nil || v.resolved.by[key] != nil || st.revocations.live(now) > 0 {
			continue
		}
		if !st.proven {
			delete(v.issuers, key)
			continue
		}
		idle = append(idle, key)
	}
	if len(idle) <= v.max {
		return
	}
	slices.SortFunc(idle, func(a, b string) int { return cmp.Compare(v.issuers[a].used, v.issuers[b].used) })
	for _, key := range idle[:len(idle)-v.max] {
		delete(v.issuers, key)
	}
}

// revocationCount is Status.Revocations for every issuer.
func (v *Validator) revocationCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, st := range v.issuers {
		n += st.revocations.len()
	}
	return n
}
