package bearer

import (
	"strings"
	"unicode/utf8"
)

// The authority stage: which authority judges a token. A Validator made
// by New has one, which judges every token. One made by NewMulti sends a
// JWT to the authority its iss names (read unverified, only to choose:
// that authority's keys verify it and its rules judge it), a fixed one or
// one Resolve admits (resolved.go), and a reference token, which names
// none, to the authority that introspects them.

// route returns the authority that judges token, whose shape (jws) the
// caller has looked at. A refusal comes with where it was decided, for an
// Observer (see Validation.Source).
func (v *Validator) route(token string, jws bool) (*authority, string, error) {
	switch {
	case v.sole != nil:
		return v.sole, sourceNone, nil
	case !jws && v.reference == nil:
		// No authority introspects: a reference token is as malformed as
		// to a single authority in ModeJWT.
		return nil, sourceLocal, errInvalidToken(ErrMalformed)
	case !jws:
		return v.reference, sourceNone, nil
	}
	iss, err := peekIssuer(token)
	if err != nil {
		return nil, sourceNone, err
	}
	a, err := v.byIssuer(iss)
	return a, sourceNone, err
}

// signer returns the authority whose keys verify a signed token that
// comes to the Validator another way than Validate: a logout token, or
// one given to KeySet.
func (v *Validator) signer(token string) (*authority, error) {
	if v.sole != nil {
		return v.sole, nil
	}
	if len(token) > v.maxSize {
		return nil, errInvalidToken(ErrTooLarge)
	}
	if !looksLikeJWS(token) {
		return nil, errInvalidToken(ErrMalformed)
	}
	a, _, err := v.route(token, true)
	return a, err
}

// issuerKey is how authorities are found by iss: discovery tolerates a
// trailing slash on the configured Authority, so lookups do too; the
// exact iss is then checked by the authority itself.
func issuerKey(iss string) string { return strings.TrimSuffix(iss, "/") }

// peekIssuer reads iss from a JWS payload that is not verified yet, only
// to choose the authority that will verify it. The payload is read by the
// reader of verified ones, and a payload that reader refuses is
// malformed, as it would be for any authority: a member named twice, or
// in another case, must not choose one authority and mean another.
func peekIssuer(token string) (string, error) {
	dot1 := strings.IndexByte(token, '.')
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	payload, err := b64.DecodeString(token[dot1+1 : dot2])
	if err != nil || !utf8.Valid(payload) {
		return "", errInvalidToken(ErrMalformed)
	}
	w, err := decodeClaims(stringOf(payload))
	if err != nil {
		return "", errInvalidToken(ErrMalformed)
	}
	// Copied: the payload's buffer is not kept.
	return strings.Clone(w.Iss), nil
}
