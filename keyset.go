package bearer

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
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
// and returns its payload. The claims are the caller's to check.
func (v *authority) verifyJWS(ctx context.Context, token string) ([]byte, error) {
	if len(token) > v.s.MaxTokenSize {
		return nil, errInvalidToken(ErrTooLarge)
	}
	if !looksLikeJWS(token) {
		return nil, errInvalidToken(ErrMalformed)
	}
	h, err := peekHeader(token)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(v.s.algorithms, h.Alg) || strings.HasPrefix(h.Alg, "HS") {
		return nil, errInvalidToken(ErrAlgorithm)
	}
	r, err := v.p.get(ctx)
	if err != nil {
		return nil, err
	}
	ks := v.p.keysOf(r)
	if ks == nil {
		// ModeIntrospection, and the authority publishes no jwks_uri.
		return nil, errInvalidToken(ErrUnknownKey)
	}
	dot1 := strings.IndexByte(token, '.')
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	sig, err := b64.DecodeString(token[dot2+1:])
	if err != nil {
		return nil, errInvalidToken(ErrMalformed)
	}
	keys, err := ks.lookup(ctx, h.Kid, h.Alg)
	if err != nil {
		return nil, err
	}
	verified := slices.ContainsFunc(keys, func(k *publicKey) bool {
		return verifySignature(h.Alg, token[:dot2], sig, k.key) == nil
	})
	if !verified {
		return nil, errInvalidToken(ErrSignature)
	}
	payload, err := b64.DecodeString(token[dot1+1 : dot2])
	if err != nil || !utf8.Valid(payload) || !isObject(payload) {
		return nil, errInvalidToken(ErrMalformed)
	}
	// The decoder of access tokens refuses a member named twice, which
	// encoding/json (go-oidc's) would read as the last one.
	if _, err := decodeClaims(string(payload)); err != nil {
		return nil, errInvalidToken(ErrMalformed)
	}
	return payload, nil
}

// peekHeader decodes the protected header of a token shaped like a JWS.
func peekHeader(token string) (jwsHeader, error) {
	raw, err := b64.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil || !utf8.Valid(raw) {
		return jwsHeader{}, errInvalidToken(ErrMalformed)
	}
	h, err := decodeHeader(string(raw))
	if err == errForbiddenHeader {
		return jwsHeader{}, errInvalidToken(ErrHeader)
	}
	if err != nil {
		return jwsHeader{}, errInvalidToken(ErrMalformed)
	}
	return h, nil
}

// asymmetricAlgorithms is the allow-list without HS*, for go-oidc.
func (s *settings) asymmetricAlgorithms() []string {
	return slices.DeleteFunc(slices.Clone(s.algorithms), func(alg string) bool { return strings.HasPrefix(alg, "HS") })
}
