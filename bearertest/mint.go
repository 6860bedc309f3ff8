package bearertest

import (
	"crypto/rand"
	"encoding/json"
	"time"
)

// Payload is the claims of a token to mint. A time.Time value is written as
// a NumericDate (seconds since the Unix epoch).
type Payload map[string]any

// Token mints an RS256 access token (RFC 9068 style) with the header
// {"alg":"RS256","typ":"at+jwt","kid":<current RS256 kid>}.
//
// The payload has these defaults, each overridden by the same key in c, or
// removed when c maps it to nil: iss=Issuer(), sub="alice", iat=now,
// exp=now+1h, a random jti, and client_id="client". There is no aud or scope
// unless c adds one, so tests state the audience and scopes they rely on.
func (a *Authority) Token(c Payload) string {
	return a.TokenWith("RS256", nil, c)
}

// TokenWith mints a token like Token, signed with the current key for alg:
// one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512,
// EdDSA and, built with Go 1.27 or later, ML-DSA-44, ML-DSA-65 and
// ML-DSA-87 (RFC 9964; over 4 KB each, see Config.MaxTokenSize); HS256, HS384 or HS512 with SharedSecret (no kid), for validators
// configured with it; or "none" for an unsigned token (no kid, empty
// signature).
//
// header is merged over the default header {alg, typ:"at+jwt", kid}; a nil
// value removes that member. The signature is always made with alg's key,
// whatever header["alg"] says, which is what algorithm-confusion tests need.
// It panics on an unsupported alg or on values encoding/json cannot encode.
func (a *Authority) TokenWith(alg string, header map[string]any, c Payload) string {
	now := time.Now()
	p := map[string]any{
		"iss":       a.issuer,
		"sub":       "alice",
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"jti":       rand.Text(),
		"client_id": "client",
	}
	merge(p, c)
	return a.mint(alg, map[string]any{"typ": "at+jwt"}, header, p)
}

// mint signs payload with the current key for alg, under the header
// {alg, kid} with typ and then header merged over it. It writes time.Time
// values of payload as NumericDates.
func (a *Authority) mint(alg string, typ, header, payload map[string]any) string {
	k := a.key(alg) // one key for both the kid and the signature, despite concurrent rotation
	h := map[string]any{"alg": alg}
	if k != nil && k.kid != "" { // HS keys have none
		h["kid"] = k.kid
	}
	merge(h, typ)
	merge(h, header)
	for name, v := range payload {
		if t, ok := v.(time.Time); ok {
			payload[name] = t.Unix()
		}
	}
	return signWith(k, mustJSON(h), mustJSON(payload))
}

// Sign returns the compact JWS of header and payload, which it base64url-
// encodes but otherwise leaves alone, signed with the current key for alg.
// It is for deliberately malformed tokens: duplicate members, a payload that
// is an array, invalid UTF-8, a header whose kid names another key, and so on.
func (a *Authority) Sign(alg string, header, payload []byte) string {
	return signWith(a.key(alg), header, payload)
}

// signWith signs with k, or leaves the signature empty when k is nil ("none").
func signWith(k *signingKey, header, payload []byte) string {
	input := b64(header) + "." + b64(payload)
	if k == nil {
		return input + "."
	}
	sig, err := k.sign([]byte(input))
	if err != nil {
		panic("bearertest: signing: " + err.Error())
	}
	return input + "." + b64(sig)
}

// merge copies src over dst, deleting keys whose value in src is nil.
func merge(dst, src map[string]any) {
	for name, v := range src {
		if v == nil {
			delete(dst, name)
		} else {
			dst[name] = v
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("bearertest: " + err.Error())
	}
	return b
}
