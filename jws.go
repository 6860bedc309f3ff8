package bearer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file is the one reader of every signed JSON the library reads:
// access tokens (jwt.go), logout tokens (logout.go), what go-oidc asks
// KeySet to verify (keyset.go), the authority's signed introspection
// answers (introspect.go) and DPoP proofs (dpopproof.go). Each kind says
// what it accepts in a jwsPolicy and adds only its own claim rules.
//
// The token never chooses how it is verified: the algorithms come from
// configuration (a kind's policy), the keys from the policy's source, and
// a header member that would name a key or an extension (crit, jku, x5u,
// x5c, and jwk unless the kind's key is the header's own, as a DPoP
// proof's is) is refused whatever its value. HS* is accepted only by a
// policy with a shared secret, and publicKey.fits keeps every other
// algorithm to keys of its own family.

// jwsPolicy is what one kind of signed JSON accepts.
type jwsPolicy struct {
	maxSize int                   // bytes of the compact form, at most
	algs    []string              // the algorithms accepted
	typ     func(typ string) bool // the typ values accepted; nil: any
	jwk     bool                  // the key is the header's jwk (DPoP); else a jwk is refused
	keys    *keySet               // the keys a kid chooses; nil: none are published
	secret  []byte                // the key of HS*; nil: HS* is refused
	shaped  bool                  // the caller checked the shape (looksLikeJWS): read does not again
	headers *headerMemo           // headers of tokens that verified (headermemo.go); nil: none. Only without jwk
}

// jws is a compact JWS that read accepted, not yet verified: its header's
// members. Its signature is decoded only to be verified, onto the stack.
type jws struct {
	token         string
	dot1, dot2    int
	alg, kid, typ string
	jwk           string // the header's key as JSON, if the policy takes one; "" if absent or null
	remembered    bool   // the header came from the policy's headers
}

// forbiddenMember is a header member that would let the token choose its
// own verification. It is ErrHeader, and names the member for a kind that
// says which (a DPoP proof's crit).
type forbiddenMember string

func (m forbiddenMember) Error() string        { return ErrHeader.Error() }
func (m forbiddenMember) Is(target error) bool { return target == ErrHeader }

// read reads token under p, all before any key is looked at: its size and
// shape, then the header (base64url, UTF-8, one JSON object with exact
// member names, none twice nor in another case, none forbidden), alg in
// p.algs (HS* only with p.secret), typ as p.typ says, and the signature's
// encoding. Its errors are reasons: ErrTooLarge, ErrMalformed, ErrHeader
// (a forbiddenMember), ErrAlgorithm, ErrTokenType.
func (t *jws) read(token string, p *jwsPolicy) error {
	if len(token) > p.maxSize {
		return ErrTooLarge
	}
	if !p.shaped && !looksLikeJWS(token) {
		return ErrMalformed
	}
	t.token = token
	t.dot1 = strings.IndexByte(token, '.')
	t.dot2 = t.dot1 + 1 + strings.IndexByte(token[t.dot1+1:], '.')
	if h := p.headers.get(token[:t.dot1]); h != nil && !p.jwk {
		// The very bytes of a header read before: the same members.
		t.alg, t.kid, t.typ, t.remembered = h.alg, h.kid, h.typ, true
	} else {
		if err := t.readHeaderSegment(token[:t.dot1], p.jwk); err != nil {
			return err
		}
	}
	if !slices.Contains(p.algs, t.alg) || isHMAC(t.alg) && p.secret == nil {
		return refusedAlgorithm(t.alg)
	}
	if p.typ != nil && !p.typ(t.typ) {
		return ErrTokenType
	}
	if !decodes(token[t.dot2+1:]) {
		return ErrMalformed
	}
	return nil
}

// decodes reports whether seg, spelled in the base64url alphabet (the
// shape check saw to that), decodes under b64. Only its last, partial
// quantum can fail to (a lone character, or bits beyond the last byte), so
// only that is decoded here.
func decodes(seg string) bool {
	var q [3]byte
	_, err := b64.Decode(q[:], bytesOf(seg[len(seg)&^3:]))
	return err == nil
}

// readHeaderSegment decodes the encoded header seg, into a buffer of its
// own which the members read are slices of, and reads it.
func (t *jws) readHeaderSegment(seg string, jwk bool) error {
	header, err := b64.DecodeString(seg)
	if err != nil || !utf8.Valid(header) {
		return ErrMalformed
	}
	return t.readHeader(stringOf(header), jwk)
}

// readHeader reads a decoded header; jwk is whether the policy takes one.
// Its errors are a forbiddenMember or ErrMalformed.
func (t *jws) readHeader(src string, jwk bool) error {
	m := readMembers(src, headerMembers)
	for m.next() {
		m.took(t.member(&m.s, m.name, jwk))
	}
	if err := m.end(); err != nil {
		if _, ok := err.(forbiddenMember); ok {
			return err
		}
		return ErrMalformed
	}
	return nil
}

// headerMembers are the header members read, or refused by name.
var headerMembers = []string{"alg", "kid", "typ", "jwk", "crit", "jku", "x5u", "x5c"}

// member reads a header member; jwk is whether the policy takes one.
func (t *jws) member(s *jsonScanner, name []byte, jwk bool) (uint, error) {
	var err error
	switch string(name) {
	case "alg":
		t.alg, err = s.optString()
		return 1 << 0, err
	case "kid":
		t.kid, err = s.optString()
		return 1 << 1, err
	case "typ":
		t.typ, err = s.optString()
		return 1 << 2, err
	case "jwk":
		if !jwk {
			return 0, forbiddenMember("jwk")
		}
		if !s.isNull() {
			t.jwk, err = s.rawValue()
		}
		return 1 << 3, err
	case "crit", "jku", "x5u", "x5c":
		return 0, forbiddenMember(name)
	}
	return 0, s.skip(0)
}

func isHMAC(alg string) bool { return strings.HasPrefix(alg, "HS") }

// verify checks the signature with the keys p chooses: p.secret for HS*,
// else those of p.keys that t's kid names (any, without a kid) and that
// fit alg, at most maxCandidates. It returns the key that verified, nil
// for HS*, and remembers the header in p.headers. Its errors are
// ErrUnknownKey and ErrSignature, or the *Error of a key set that could
// not answer (503).
func (t *jws) verify(ctx context.Context, p *jwsPolicy) (*publicKey, error) {
	var buf [sigOnStack]byte
	sig, err := t.signature(&buf)
	if err != nil {
		return nil, err
	}
	input := t.token[:t.dot2]
	if isHMAC(t.alg) {
		if verifySignature(t.alg, input, sig, p.secret) != nil {
			return nil, ErrSignature
		}
		t.verified(p)
		return nil, nil
	}
	if p.keys == nil {
		return nil, ErrUnknownKey
	}
	var keyBuf [maxCandidates]*publicKey
	keys, err := p.keys.lookup(ctx, t.kid, t.alg, &keyBuf)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if verifySignature(t.alg, input, sig, k.key) == nil {
			t.verified(p)
			return k, nil
		}
	}
	return nil, ErrSignature
}

// verified notes that t's signature verified: its header, read afresh,
// joins p's headers.
func (t *jws) verified(p *jwsPolicy) {
	if p.headers != nil && !t.remembered && !p.jwk {
		p.headers.put(t)
	}
}

// verifiedBy reports whether key, a key of the token's own (a DPoP
// proof's), verifies the signature.
func (t *jws) verifiedBy(key any) bool {
	var buf [sigOnStack]byte
	sig, err := t.signature(&buf)
	return err == nil && verifySignature(t.alg, t.token[:t.dot2], sig, key) == nil
}

// sigOnStack is the longest signature decoded onto the stack, RSA's with
// a 4096-bit key; a longer one (ML-DSA's) gets a buffer of its own.
const sigOnStack = 512

// signature decodes the signature into buf if it fits. read checked that
// it decodes; ErrMalformed if not.
func (t *jws) signature(buf *[sigOnStack]byte) ([]byte, error) {
	seg := t.token[t.dot2+1:]
	out := buf[:]
	if n := b64.DecodedLen(len(seg)); n > len(out) {
		out = make([]byte, n)
	}
	n, ok := decodeB64(out, seg)
	if !ok {
		return nil, ErrMalformed
	}
	return out[:n], nil
}

// payload decodes the payload into a buffer of its own, which the caller
// may keep. It must be UTF-8 (RFC 7515 §5.2, RFC 7519 §7.2): decoding
// would turn invalid bytes into U+FFFD, and another parser might not.
func (t *jws) payload() ([]byte, error) {
	seg := t.token[t.dot1+1 : t.dot2]
	out := make([]byte, b64.DecodedLen(len(seg)))
	n, ok := decodeB64(out, seg)
	if !ok || !utf8.Valid(out[:n]) {
		return nil, ErrMalformed
	}
	return out[:n:n], nil
}

// invalid makes a reason of read or verify the *Error of an invalid
// token; an *Error already (an unavailable key set) is returned as it is.
func invalid(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, ErrHeader):
		return errInvalidToken(ErrHeader)
	}
	return errInvalidToken(err)
}
