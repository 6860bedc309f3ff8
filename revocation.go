package bearer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"
)

// defaultMaxTokenLifetime is Config.MaxTokenLifetime's default: long
// enough for the authorities whose access tokens live longest by default.
const defaultMaxTokenLifetime = 24 * time.Hour

// Revocation refuses the access tokens it matches before they expire, or,
// with ACRSubject, lowers what a user's tokens show of how the user signed
// in. Exactly one of SessionID, Subject, ACRSubject, TokenID and TokenHash
// is set. A revocation holds for JWTs and introspected tokens alike,
// wherever their validation comes from (a cache or not), until Expires,
// and only for the tokens of the authority Issuer names.
//
// It is what a RevocationStore carries between replicas, and survives
// encoding/json.
type Revocation struct {
	// Issuer is the issuer identifier of the authority whose tokens the
	// revocation refuses (a trailing slash aside): the same sid or sub at
	// another authority is someone else's. Revoke fills it in on a
	// Validator of one authority; on a Validator of several (NewMulti) it
	// must name one of them. A revocation without it, as made before it
	// existed, holds for every authority of a Validator that receives it.
	Issuer string `json:"iss,omitempty"`

	// SessionID refuses every token whose sid is this.
	SessionID string `json:"sid,omitempty"`

	// Subject refuses the tokens whose sub is this and whose iat is at
	// or before IssuedBefore (zero: when Revoke is called). A token
	// without iat cannot show it was issued later, so it is refused too.
	Subject      string    `json:"sub,omitempty"`
	IssuedBefore time.Time `json:"iat,omitzero"`
	// WithoutSession narrows a Subject revocation to the tokens that
	// carry no sid: what a logout token revokes besides its session (see
	// Config.SessionOnlyLogout).
	WithoutSession bool `json:"no_sid,omitempty"`

	// ACRSubject and ACR say that the user ACRSubject (sub) now holds
	// the authentication context ACR, lower than before (a CAEP
	// assurance-level-change, package signals); an empty ACR meets no
	// acr requirement. The user's tokens whose iat is at or before
	// IssuedBefore (zero: when Revoke is called), or which have no iat,
	// are not refused: they meet an acr requirement (ACR, ACRAtLeast) only
	// if ACR meets it too, so a route that requires step-up answers 401
	// insufficient_user_authentication and the client signs the user in
	// again, while routes without one accept them. For each user the
	// latest IssuedBefore holds, with its ACR. A replica that predates
	// these members finds none of the others set, and ignores the record
	// (logged) rather than signing the user out.
	ACRSubject string `json:"acr_sub,omitempty"`
	ACR        string `json:"acr,omitempty"`

	// TokenID refuses every token whose jti is this.
	TokenID string `json:"jti,omitempty"`

	// TokenHash refuses one token: the hex SHA-256 of the whole token, as
	// RevokeToken computes it.
	TokenHash string `json:"token_sha256,omitempty"`

	// Expires is when the revocation may be forgotten, because no token
	// it matches is still valid. Revoke sets it when it is zero, and to
	// no later than Config.MaxTokenLifetime (and twice Leeway) after the
	// latest a matching token can have been issued.
	Expires time.Time `json:"exp,omitzero"`
}

var errRevocation = errors.New("bearer: a Revocation sets exactly one of SessionID, Subject, ACRSubject, TokenID and TokenHash; IssuedBefore only with Subject or ACRSubject, WithoutSession only with Subject, ACR only with ACRSubject")

// key checks r and returns its index key.
func (r *Revocation) key() (revocationKey, error) {
	var k revocationKey
	n := 0
	for kind, v := range [numKinds]string{kindSession: r.SessionID, kindSubject: r.Subject, kindTokenID: r.TokenID, kindToken: r.TokenHash, kindAssurance: r.ACRSubject} {
		if v != "" {
			k, n = revocationKey{uint8(kind), v}, n+1
		}
	}
	if n != 1 || !k.dated() && !r.IssuedBefore.IsZero() || k.kind != kindSubject && r.WithoutSession || k.kind != kindAssurance && r.ACR != "" {
		return k, errRevocation
	}
	if k.kind == kindToken {
		h, err := hex.DecodeString(k.value)
		if err != nil || len(h) != sha256.Size {
			return k, errors.New("bearer: Revocation.TokenHash is not a hex SHA-256")
		}
		k.value = string(h)
	}
	return k, nil
}

// Revoke refuses, from now on, every access token r matches: it answers
// 401 invalid_token, "token revoked" (or, for Revocation.ACRSubject, lowers
// their authentication context). The revocation holds in this
// Validator at once, then r goes to Config.RevocationStore (or
// MultiConfig.RevocationStore) for the other replicas; the error, if any,
// is the store's, or ErrNotAuthority when r.Issuer names none of the
// Validator's authorities. On a Validator of several authorities, r.Issuer
// names the authority whose tokens it refuses.
//
//	// sign alice out of every session that started before now
//	err := v.Revoke(ctx, bearer.Revocation{Subject: "alice"})
func (v *Validator) Revoke(ctx context.Context, r Revocation) error {
	if r.Issuer == "" {
		if v.sole == nil {
			return errors.New("bearer: Revoke on a Validator of several authorities needs Revocation.Issuer")
		}
		r.Issuer = v.sole.s.Authority
	}
	if _, err := v.applyRevocation(&r, time.Now()); err != nil {
		return err
	}
	return v.store.Revoke(ctx, r)
}

// RevokeToken refuses token from now on, whatever it is (a JWT or a
// reference token, valid or not), and forgets what is cached about it. See
// Revoke. On a Validator of several authorities the revocation is the
// authority's that would judge the token: the one its iss names, or for a
// reference token the one that introspects them.
func (v *Validator) RevokeToken(ctx context.Context, token string) error {
	if token == "" {
		return errors.New("bearer: RevokeToken of an empty token")
	}
	iss, err := v.judgeOf(token)
	if err != nil {
		return err
	}
	defer v.Forget(token)
	return v.Revoke(ctx, Revocation{Issuer: iss, TokenHash: cacheKey(token)})
}

// applyRevocation completes r and adds it to x. limit is how long after
// the latest a matching token can have been issued r may hold.
func applyRevocation(x *revocationIndex, limit time.Duration, r *Revocation, now time.Time) (bool, error) {
	key, err := r.key()
	if err != nil {
		return false, err
	}
	latest := now // the latest a matching token can have been issued
	if key.dated() {
		if r.IssuedBefore.IsZero() {
			r.IssuedBefore = now
		}
		latest = r.IssuedBefore
	}
	if end := latest.Add(limit); r.Expires.IsZero() || r.Expires.After(end) {
		r.Expires = end
	}
	if !now.Before(r.Expires) {
		return false, nil
	}
	e := revocationEntry{expires: r.Expires.UnixNano()}
	if key.dated() {
		// Never 0, which means unset.
		before := max(r.IssuedBefore.UnixNano(), 1)
		if key.kind == kindAssurance {
			e.before, e.acr = before, r.ACR
		} else if r.WithoutSession {
			e.beforeUnbound = before
		} else {
			e.before = before
		}
	}
	x.add(key, e, now)
	return true, nil
}

// checkRevoked is the revocation stage: the revocations of the issuer
// of a, the authority that accepted c, and, with
// Config.RequireRevocationSync, a 503 until the store has delivered
// those in force. An introspection answer about a revoked token is
// forgotten, so that the authority is asked again once the revocation
// lapses.
func (v *Validator) checkRevoked(a *authority, token string, c *Claims) error {
	if v.revSync.refusing.Load() {
		return errUnavailable(errNotSynced, time.Second)
	}
	if !a.revocations.revoked(c, token, time.Now) {
		return nil
	}
	if a.in != nil && (a.s.Mode == ModeIntrospection || !looksLikeJWS(token)) {
		a.in.Forget(token)
	}
	return errInvalidToken(ErrRevoked)
}

// revocationLimit is how long after the latest a matching token can have
// been issued a revocation is kept: MaxTokenLifetime, and twice Leeway.
func (s *settings) revocationLimit() time.Duration {
	lifetime := s.MaxTokenLifetime
	if lifetime <= 0 {
		lifetime = defaultMaxTokenLifetime
	}
	return lifetime + 2*s.leeway
}

// subscribe keeps the revocations of every issuer current from store, a
// RevocationStore of the configuration's (nil: none), until Close: one
// subscription for every authority, each revocation applied to its
// issuer's.
func (v *Validator) subscribe(store RevocationStore) {
	if store == nil {
		return
	}
	v.closing.Go(func() {
		subscribe(v.ctx, store, v.log, v.deliver, v.revSync.synced)
	})
}

// subscribe gives the store's revocations to apply until ctx ends,
// subscribing again after a pause when the store fails, and passes on
// the store's word that those in force were delivered (synced).
func subscribe(ctx context.Context, store RevocationStore, log *slog.Logger, apply func(Revocation) error, synced func()) {
	deliver := func(r Revocation) {
		if err := apply(r); err != nil {
			log.WarnContext(ctx, "bearer: the revocation store delivered an unusable revocation", "error", err)
		}
	}
	backoff := time.Second
	for {
		start := time.Now()
		err := store.Subscribe(ctx, deliver, synced)
		if ctx.Err() != nil {
			return
		}
		log.WarnContext(ctx, "bearer: revocation store subscription ended; revocations of other replicas are missed until it resumes", "error", err)
		if time.Since(start) > maxBackoff {
			backoff = time.Second
		}
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		backoff = min(2*backoff, maxBackoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
