package bearer

import (
	"context"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/accesstoken/bearer/internal/strict"
)

// KeySet returns the authority's signing keys as an oidc.KeySet, for
// go-oidc's verifiers: an application that verifies ID tokens with go-oidc
// then shares one key cache with the Validator guarding its API, and
// go-oidc fetches nothing itself.
//
// VerifySignature applies the Validator's rules for a JWS: the algorithm
// must be in Config.Algorithms and fit the key (HS* is never accepted
// here: the keys are the authority's public ones), crit, jwk, jku, x5u and
// x5c are refused, a kid the key set does not know makes it fetch the
// authority's JWKS at most once per Config.KeyRefreshWindow, and the
// payload must be a JSON object in UTF-8 that names no member twice. It
// waits on the authority at most Config.Timeout. Its errors are *Error
// values, as Validate's. On a Validator of several authorities (NewMulti)
// the token's iss chooses whose keys verify it, as in Validate.
func (v *Validator) KeySet() oidc.KeySet { return validatorKeys{v} }

type validatorKeys struct{ v *Validator }

// keyCheck is where VerifySignature reports, to a caller that put one in
// the context, what go-oidc would only pass on as text: the error, and
// the payload it verified.
type keyCheck struct {
	called  bool
	err     error
	payload []byte
}

type keyCheckKey struct{}

func (k validatorKeys) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	a, err := k.v.signer(token)
	if err != nil {
		return nil, err
	}
	return authorityKeys{a}.VerifySignature(ctx, token)
}

// authorityKeys are one authority's keys as an oidc.KeySet: those of the
// authority a token named.
type authorityKeys struct{ a *authority }

func (k authorityKeys) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, k.a.s.Timeout)
	defer cancel()
	payload, err := k.a.verifyJWS(ctx, token)
	if check, ok := ctx.Value(keyCheckKey{}).(*keyCheck); ok {
		check.called, check.err, check.payload = true, err, payload
	}
	if err != nil {
		return nil, err
	}
	return payload, nil
}

// verifyJWS checks a compact JWS signed with one of the authority's keys
// (never with Config.SharedSecret: what go-oidc verifies is the
// authority's) and returns its payload, which must be a JSON object that
// the claims' strict decoder accepts. Its claims are the caller's to
// check.
func (v *authority) verifyJWS(ctx context.Context, token string) ([]byte, error) {
	p := jwsPolicy{maxSize: v.s.MaxTokenSize, algs: v.s.algorithms}
	var t jws
	if err := t.read(token, &p); err != nil {
		return nil, invalid(err)
	}
	r, err := v.p.get(ctx)
	if err != nil {
		return nil, err
	}
	// nil in ModeIntrospection when the authority publishes no jwks_uri.
	p.keys = v.p.keysOf(r)
	if _, err := t.verify(ctx, &p); err != nil {
		return nil, invalid(err)
	}
	payload, err := t.payload()
	if err != nil || !isObject(payload) {
		return nil, errInvalidToken(ErrMalformed)
	}
	// The decoder of access tokens refuses a member named twice, which
	// encoding/json (go-oidc's) would read as the last one.
	if _, err := decodeClaims(stringOf(payload)); err != nil {
		return nil, errInvalidToken(ErrMalformed)
	}
	return payload, nil
}

// asymmetricAlgorithms is the allow-list without HS*, for go-oidc.
func (s *settings) asymmetricAlgorithms() []string {
	return slices.DeleteFunc(slices.Clone(s.algorithms), func(alg string) bool { return strings.HasPrefix(alg, "HS") })
}

// Package signals judges a SET's typ before it looks up the transmitter's
// keys (RFC 8417 §2.3), with this package's reader so that the typ it
// judges is the one the verification reads, and reads the SET's claims
// with this package's JSON reader.
func init() { strict.Typ, strict.Object = headerTyp, objectMembers }

// headerTyp reads the typ of token's header as read does (jws.go), alone:
// nothing of the algorithm, the key or the signature.
func headerTyp(token string) (string, bool) {
	if !looksLikeJWS(token) {
		return "", false
	}
	var t jws
	if t.readHeaderSegment(token[:strings.IndexByte(token, '.')], true) != nil {
		return "", false
	}
	return t.typ, true
}
