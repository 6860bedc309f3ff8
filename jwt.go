package bearer

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accesstoken/bearer/internal/alphabet"
)

// looksLikeJWS reports whether token has the shape of a compact JWS: three
// non-empty base64url segments (the signature may not be empty either).
func looksLikeJWS(token string) bool {
	dot1 := strings.IndexByte(token, '.')
	if dot1 <= 0 {
		return false
	}
	rest := token[dot1+1:]
	dot2 := strings.IndexByte(rest, '.')
	if dot2 <= 0 || dot2 == len(rest)-1 {
		return false
	}
	// The last segment has no dot: the alphabet check finds one.
	b := alphabet.Base64URL
	return b.Spells(token[:dot1]) && b.Spells(rest[:dot2]) && b.Spells(rest[dot2+1:])
}

// b64 decodes base64url without padding, and refuses what a canonical
// encoding would not produce (stray bits in the last character), so that
// one token has one reading and one DPoP key one thumbprint.
var b64 = base64.RawURLEncoding.Strict()

// accessTyp and accessTypStrict apply RFC 9068 §4 and RFC 8725 §3.11:
// typ (a media type, compared case-insensitively) keeps other kinds of JWT
// out; Config.StrictTokenType requires at+jwt.
func accessTyp(typ string) bool {
	switch strings.ToLower(typ) {
	case "", "jwt", "application/jwt", "at+jwt", "application/at+jwt":
		return true
	}
	return false
}

func accessTypStrict(typ string) bool {
	t := strings.ToLower(typ)
	return t == "at+jwt" || t == "application/at+jwt"
}

// validateJWT checks an access token of the JWS shape (looksLikeJWS)
// locally: the strict reader's rules (jws.go) under the configured
// algorithms and typ, the signature by the authority's keys (or
// Config.SharedSecret for HS*), then the registered claims. The payload
// is parsed only after the signature verifies. It returns the key that
// verified the token (nil for HMAC).
func (v *authority) validateJWT(ctx context.Context, r *remote, token string) (*Claims, *publicKey, error) {
	// The verify stage checked the token's shape to route it: once per
	// token is enough.
	p := jwsPolicy{maxSize: v.s.MaxTokenSize, algs: v.s.algorithms, typ: accessTyp, keys: r.keys, secret: v.s.SharedSecret, shaped: true, headers: &v.headers}
	if v.s.StrictTokenType {
		p.typ = accessTypStrict
	}
	var t jws
	if err := t.read(token, &p); err != nil {
		return nil, nil, invalid(err)
	}
	key, err := t.verify(ctx, &p)
	if err != nil {
		return nil, nil, unverified(invalid(err), r, token[t.dot1+1:t.dot2])
	}
	// The claims' strings are slices of the payload.
	payload, err := t.payload()
	if err != nil {
		return nil, nil, invalid(err)
	}
	w, err := decodeClaims(stringOf(payload))
	if err != nil {
		return nil, nil, errInvalidToken(ErrMalformed)
	}
	if !w.Exp.set {
		return nil, nil, errInvalidToken(ErrMalformed)
	}
	// A logout token without typ, or any other security event token, is
	// not an access token even if its aud names this API (RFC 8725 §3.12).
	if w.Events {
		return nil, nil, errInvalidToken(ErrTokenType)
	}
	c := w.claims(stringOf(payload))
	c.by = v
	if c.Issuer != r.issuer {
		return nil, nil, errInvalidToken(ErrIssuer)
	}
	if err := v.checkTimes(c, time.Now()); err != nil {
		return nil, nil, err
	}
	if err := v.checkAudience(c.Audience); err != nil {
		return nil, nil, err
	}
	return c, key, nil
}

// unverified describes a token no key verified. A token from another
// issuer is the usual cause of that, and "issuer mismatch" tells its
// sender more than "no matching signing key": so when err is either
// refusal and the payload, read without trusting it, names an issuer
// other than the authority, the refusal is described as ErrIssuer. The
// token is refused either way; its iss only picks the words. Any other
// error, an unavailable authority above all, is returned as it is.
func unverified(err error, r *remote, payload string) error {
	if !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrSignature) {
		return err
	}
	raw, derr := b64.DecodeString(payload)
	if derr != nil || !utf8.Valid(raw) {
		return err
	}
	w, derr := decodeClaims(string(raw))
	if derr != nil || w.Iss == "" || w.Iss == r.issuer {
		return err
	}
	return errInvalidToken(ErrIssuer)
}

// checkTimes applies exp, nbf and iat with the configured leeway.
func (v *authority) checkTimes(c *Claims, now time.Time) error {
	if !now.Before(c.ExpiresAt.Add(v.s.leeway)) {
		return errInvalidToken(ErrExpired)
	}
	return v.checkNotBefore(c, now)
}

// checkNotBefore applies nbf and iat, if present, with the leeway.
func (v *authority) checkNotBefore(c *Claims, now time.Time) error {
	if !c.NotBefore.IsZero() && now.Add(v.s.leeway).Before(c.NotBefore) {
		return errInvalidToken(ErrNotYetValid)
	}
	if !c.IssuedAt.IsZero() && now.Add(v.s.leeway).Before(c.IssuedAt) {
		return errInvalidToken(ErrIssuedInFuture)
	}
	return nil
}

// checkAudience requires one of the configured audiences, if any are.
func (v *authority) checkAudience(aud []string) error {
	if len(v.s.Audience) == 0 {
		return nil
	}
	for _, a := range aud {
		if slices.Contains(v.s.Audience, a) {
			return nil
		}
	}
	return errInvalidToken(ErrAudience)
}

// isObject reports whether b is a JSON object (and not an array, string or
// number that encoding/json would happily skip into a struct).
func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}
