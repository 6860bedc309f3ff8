package bearer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// maxProofSize bounds a DPoP proof before any parsing: a proof holds a
// public key and a few short claims.
const maxProofSize = 8 << 10

// proofClaims are the claims of a proof that are read (RFC 9449 §4.2),
// by their exact names.
type proofClaims struct {
	jti, htm, htu, ath string
	iat                numericDate
	nonce              *string
}

var proofClaimMembers = []string{"jti", "htm", "htu", "iat", "ath", "nonce"}

// proofTyp is a proof's typ (§4.2, §4.3 point 4), exactly.
func proofTyp(typ string) bool { return typ == "dpop+jwt" }

// proofRefused words a refusal of the JWS reader (jws.go) for a proof.
func proofRefused(err error) error {
	var m forbiddenMember
	switch {
	case errors.Is(err, ErrTokenType):
		return errDPoPProof("DPoP proof typ is not dpop+jwt")
	case errors.Is(err, ErrAlgorithm):
		return errDPoPProof("DPoP proof algorithm not allowed")
	case errors.As(err, &m):
		return errDPoPProof("DPoP proof has " + string(m))
	}
	return errDPoPProof("malformed DPoP proof")
}

// checkProof checks p's one proof as RFC 9449 §4.3 lists, against the
// token's binding cnf; then that it was not seen before. What costs no
// arithmetic comes first, the key's thumbprint against cnf.jkt among it,
// so that a refused proof costs no more than a valid one: the signature is
// checked last, with a key of bounded size, and only a proof that passed
// everything else is remembered.
func (d *dpopSettings) checkProof(ctx context.Context, p Presentation, cnf confirmation) error {
	if cnf.jkt == "" {
		// §7.1: the DPoP scheme is for tokens bound to a key.
		return errBinding("token not DPoP-bound")
	}
	// Points 2, 4 and 5: one well-formed JWT, typ dpop+jwt, an asymmetric
	// algorithm this API accepts; the key is the header's jwk.
	var t jws
	if err := t.read(p.DPoP[0], &jwsPolicy{maxSize: maxProofSize, algs: d.algorithms, typ: proofTyp, jwk: true}); err != nil {
		return proofRefused(err)
	}
	payload, err := t.payload()
	if err != nil {
		return errDPoPProof("malformed DPoP proof")
	}
	c, err := readProofClaims(stringOf(payload))
	if err != nil {
		return errDPoPProof("malformed DPoP proof")
	}
	// Point 7: a public key, of a size this API verifies.
	key, thumbprint, err := parseProofKey(t.jwk)
	if err != nil {
		return errDPoPProof("DPoP proof key unusable")
	}
	// The binding: the proof's key is the token's (§6.1).
	if !hmac.Equal([]byte(thumbprint), []byte(cnf.jkt)) {
		return errDPoPProof("DPoP proof key does not match the token")
	}
	// Point 3: the claims.
	if c.jti == "" || c.htm == "" || c.htu == "" || !c.iat.set || len(c.jti) > 256 {
		return errDPoPProof("DPoP proof claims missing")
	}
	// Point 8: htm.
	if c.htm != p.Method {
		return errDPoPProof("DPoP proof htm does not match the method")
	}
	// Point 9: htu.
	if !d.sameHTU(c.htu, p.URL) {
		return errDPoPProof("DPoP proof htu does not match the URI")
	}
	// Point 11: iat within the window.
	now := time.Now()
	iat := c.iat.t
	if iat.After(now.Add(d.leeway)) || iat.Before(now.Add(-d.proofAge-d.leeway)) {
		return errDPoPProof("DPoP proof iat outside the accepted window")
	}
	// Point 12: ath is the token's hash.
	if !hmac.Equal([]byte(c.ath), []byte(accessTokenHash(p.Token))) {
		return errDPoPProof("DPoP proof ath does not match the token")
	}
	// Point 10: a nonce this API issued, when it issues them (§9, §11.3).
	if d.nonces != nil && (c.nonce == nil || !d.nonces.valid(*c.nonce, now)) {
		e := errInvalidToken(ErrDPoPNonce)
		if c.nonce != nil {
			e.Description = "DPoP nonce stale or unknown"
		}
		return e
	}
	// Point 6: signed by the embedded key.
	pub, err := key.publicKey()
	if err != nil {
		return errDPoPProof("DPoP proof key unusable")
	}
	if !t.verifiedBy(pub) {
		return errDPoPProof("DPoP proof signature invalid")
	}
	// Point 11 again: each proof once (§11.1). The id is a hash: jti is the
	// client's, never stored or logged as sent.
	sum := sha256.Sum256([]byte(thumbprint + " " + c.jti))
	first, err := d.replay.FirstSeen(ctx, "dpop "+b64.EncodeToString(sum[:]), iat.Add(d.proofAge+2*d.leeway))
	if err != nil {
		// Fail closed: without the memory a replay would pass.
		return errUnavailable(err, retryAfterOf(err))
	}
	if !first {
		return errDPoPProof("DPoP proof replayed")
	}
	return nil
}

// readProofClaims reads a proof's claims with the strict reader of every
// signed JSON (see claimsjson.go): exact names, none twice nor in another
// case, nothing after the object.
func readProofClaims(src string) (proofClaims, error) {
	var c proofClaims
	m := readMembers(src, proofClaimMembers)
	for m.next() {
		m.took(c.member(&m.s, m.name))
	}
	return c, m.end()
}

func (c *proofClaims) member(s *jsonScanner, name []byte) (uint, error) {
	var err error
	switch string(name) {
	case "jti":
		c.jti, err = s.optString()
		return 1 << 0, err
	case "htm":
		c.htm, err = s.optString()
		return 1 << 1, err
	case "htu":
		c.htu, err = s.optString()
		return 1 << 2, err
	case "iat":
		return 1 << 3, s.date(&c.iat)
	case "ath":
		c.ath, err = s.optString()
		return 1 << 4, err
	case "nonce":
		if !s.isNull() {
			var v string
			v, err = s.str()
			c.nonce = &v
		}
		return 1 << 5, err
	}
	return 0, s.skip(0)
}

// sameHTU reports whether a proof's htu names the request's URI, both
// without query and fragment and after RFC 3986 §6.2.2 normalisation:
// scheme and host in lower case, default ports dropped, percent-encoding
// in upper case and unreserved characters decoded, dot-segments removed,
// an empty path as "/". With DPoPConfig.Origins, the request's scheme and
// host are not looked at: htu must name one of the origins.
func (d *dpopSettings) sameHTU(htu, request string) bool {
	origin, path, ok := normalURI(htu)
	if !ok {
		return false
	}
	if d.origins != nil {
		u, err := url.Parse(request)
		return err == nil && slices.Contains(d.origins, origin) && path == normalPath(u)
	}
	reqOrigin, reqPath, ok := normalURI(request)
	return ok && origin == reqOrigin && path == reqPath
}

// normalURI returns raw's origin (scheme://host[:port]) and path,
// normalised; ok is false unless raw is an absolute http or https URI
// without user information.
func normalURI(raw string) (origin, path string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return "", "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" || u.Host == "" {
		return "", "", false
	}
	host := strings.ToLower(u.Hostname())
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, normalPath(u), true
}

// normalPath returns u's path, normalised as sameHTU says.
func normalPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	// Decoding and encoding again normalises percent-encoding.
	// An encoded slash stays encoded, since it is not a slash: such a
	// path only has its escapes in upper case.
	if dec, err := url.PathUnescape(p); err == nil && !strings.Contains(strings.ToUpper(p), "%2F") {
		p = (&url.URL{Path: dec}).EscapedPath()
	} else {
		b := []byte(p)
		for i := range b {
			if i >= 1 && (b[i-1] == '%' || (i >= 2 && b[i-2] == '%')) && b[i] >= 'a' && b[i] <= 'f' {
				b[i] -= 'a' - 'A'
			}
		}
		p = string(b)
	}
	if clean := path.Clean(p); clean != p {
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		p = clean
	}
	return p
}
