package bearer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// maxProofSize bounds a DPoP proof before any parsing: a proof holds a
// public key and a few short claims.
const maxProofSize = 8 << 10

// proofHeader and proofClaims are the members of a proof that are read
// (RFC 9449 §4.2).
type proofHeader struct {
	Typ  string          `json:"typ"`
	Alg  string          `json:"alg"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
}

type proofClaims struct {
	JTI   string   `json:"jti"`
	HTM   string   `json:"htm"`
	HTU   string   `json:"htu"`
	IAT   *float64 `json:"iat"`
	ATH   string   `json:"ath"`
	Nonce *string  `json:"nonce"`
}

// checkProof checks p's one proof as RFC 9449 §4.3 lists, against the
// token's binding cnf; then that it was not seen before.
func (d *dpopSettings) checkProof(ctx context.Context, p Presentation, cnf confirmation) error {
	if cnf.jkt == "" {
		// §7.1: the DPoP scheme is for tokens bound to a key.
		return errBinding("token not DPoP-bound")
	}
	proof := p.DPoP[0]
	// Point 2: one well-formed JWT.
	if len(proof) > maxProofSize || !looksLikeJWS(proof) {
		return errDPoPProof("malformed DPoP proof")
	}
	segs := strings.SplitN(proof, ".", 3)
	var h proofHeader
	var c proofClaims
	if decodeSegmentJSON(segs[0], &h) != nil || decodeSegmentJSON(segs[1], &c) != nil {
		return errDPoPProof("malformed DPoP proof")
	}
	// Point 4: typ.
	if h.Typ != "dpop+jwt" {
		return errDPoPProof("DPoP proof typ is not dpop+jwt")
	}
	// Point 5: an asymmetric algorithm this API accepts.
	if !slices.Contains(d.algorithms, h.Alg) {
		return errDPoPProof("DPoP proof algorithm not allowed")
	}
	if h.Crit != nil {
		return errDPoPProof("DPoP proof has crit")
	}
	// Points 6 and 7: signed by the embedded public key, which has no
	// private part.
	if h.JWK != nil && uniqueMembers(string(h.JWK)) != nil {
		return errDPoPProof("DPoP proof key unusable")
	}
	key, thumbprint, err := parseProofKey(h.JWK)
	if err != nil {
		return errDPoPProof("DPoP proof key unusable")
	}
	sig, err := b64url.DecodeString(segs[2])
	if err != nil || verifySignature(h.Alg, proof[:len(segs[0])+1+len(segs[1])], sig, key) != nil {
		return errDPoPProof("DPoP proof signature invalid")
	}
	// Point 3: the claims.
	if c.JTI == "" || c.HTM == "" || c.HTU == "" || c.IAT == nil || len(c.JTI) > 256 {
		return errDPoPProof("DPoP proof claims missing")
	}
	// Point 8: htm.
	if c.HTM != p.Method {
		return errDPoPProof("DPoP proof htm does not match the method")
	}
	// Point 9: htu.
	if !sameHTU(c.HTU, p.URL) {
		return errDPoPProof("DPoP proof htu does not match the URI")
	}
	// Point 11: iat within the window.
	now := time.Now()
	iat := time.Unix(0, 0).Add(time.Duration(*c.IAT * float64(time.Second)))
	if iat.After(now.Add(d.leeway)) || iat.Before(now.Add(-d.proofAge-d.leeway)) {
		return errDPoPProof("DPoP proof iat outside the accepted window")
	}
	// Point 12: ath is the token's hash.
	if !hmac.Equal([]byte(c.ATH), []byte(accessTokenHash(p.Token))) {
		return errDPoPProof("DPoP proof ath does not match the token")
	}
	// The binding: the proof's key is the token's (§6.1).
	if !hmac.Equal([]byte(thumbprint), []byte(cnf.jkt)) {
		return errDPoPProof("DPoP proof key does not match the token")
	}
	// Point 10: a nonce this API issued, when it issues them (§9, §11.3).
	if d.nonces != nil && (c.Nonce == nil || !d.nonces.valid(*c.Nonce, now)) {
		e := errInvalidToken(ErrDPoPNonce)
		if c.Nonce != nil {
			e.Description = "DPoP nonce stale or unknown"
		}
		return e
	}
	// Point 11 again: each proof once (§11.1). The id is a hash: jti is the
	// client's, never stored or logged as sent.
	sum := sha256.Sum256([]byte(thumbprint + " " + c.JTI))
	first, err := d.replay.FirstSeen(ctx, "dpop "+b64url.EncodeToString(sum[:]), iat.Add(d.proofAge+2*d.leeway))
	if err != nil {
		// Fail closed: without the memory a replay would pass.
		return errUnavailable(err, time.Second)
	}
	if !first {
		return errDPoPProof("DPoP proof replayed")
	}
	return nil
}

var errProofJSON = errors.New("malformed DPoP proof")

// decodeSegmentJSON decodes a base64url segment holding a JSON object
// into v: UTF-8, no member named twice (so that no other reader could
// see other values), nothing after the object.
func decodeSegmentJSON(seg string, v any) error {
	b, err := b64url.DecodeString(seg)
	if err != nil || !utf8.Valid(b) || uniqueMembers(string(b)) != nil || json.Unmarshal(b, v) != nil {
		return errProofJSON
	}
	return nil
}

// uniqueMembers checks that obj is one JSON object whose members' names
// all differ when case is folded, as encoding/json folds them to match
// fields ("HTU" would be read as htu), with the reader of access-token
// payloads, which also refuses escaped lone surrogates and registered
// claims (iat, jti, …) of the wrong type. Nested values are skipped: those
// read into fields (the jwk) are checked on their own.
func uniqueMembers(obj string) error {
	var w wireClaims
	return decodeObject(obj, &w, nil)
}

// sameHTU reports whether a proof's htu names the request's URI, both
// without query and fragment and after RFC 3986 §6.2.2 normalisation:
// scheme and host in lower case, default ports dropped, percent-encoding
// in upper case and unreserved characters decoded, dot-segments removed,
// an empty path as "/".
func sameHTU(htu, request string) bool {
	a, okA := normalURI(htu)
	b, okB := normalURI(request)
	return okA && okB && a == b
}

func normalURI(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" || u.Host == "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
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
	return scheme + "://" + host + p, true
}
