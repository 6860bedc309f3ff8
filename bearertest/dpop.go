package bearertest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"time"
)

// DPoPKey is a client's DPoP key (RFC 9449): tokens are bound to it with
// Confirmation, and it signs the proofs that present them.
type DPoPKey struct {
	k          *signingKey
	jwk        map[string]any // public, without kid, alg or use
	thumbprint string
}

// NewDPoPKey returns a new key for alg: ES256, ES384, ES512, RS256, RS384,
// RS512, PS256, PS384, PS512 or EdDSA. It panics on another alg.
func NewDPoPKey(alg string) *DPoPKey {
	if _, ok := algorithmByName[alg]; !ok {
		panic("bearertest: NewDPoPKey: unsupported alg " + alg)
	}
	priv, err := generateKey(alg)
	if err != nil {
		panic("bearertest: " + err.Error())
	}
	k := &signingKey{alg: alg, priv: priv}
	var jwk map[string]any
	_ = json.Unmarshal(k.jwk(), &jwk)
	for _, name := range []string{"kid", "alg", "use"} {
		delete(jwk, name)
	}
	// RFC 7638: the required members, in lexicographic order (which
	// encoding/json gives maps), without white space.
	required := map[string]any{}
	for _, name := range []string{"crv", "e", "kty", "n", "x", "y"} {
		if v, ok := jwk[name]; ok {
			required[name] = v
		}
	}
	sum := sha256.Sum256(mustJSON(required))
	return &DPoPKey{k: k, jwk: jwk, thumbprint: b64(sum[:])}
}

// Thumbprint returns the key's RFC 7638 SHA-256 thumbprint, base64url:
// the jkt a token bound to it carries.
func (k *DPoPKey) Thumbprint() string { return k.thumbprint }

// Confirmation returns the cnf claim binding a token to k (RFC 9449 §6),
// for Token, TokenWith and ReferenceToken:
//
//	tok := a.Token(bearertest.Payload{"aud": "api", "cnf": key.Confirmation()})
func (k *DPoPKey) Confirmation() map[string]any { return map[string]any{"jkt": k.thumbprint} }

// JWK returns the public key as a JWK, as a proof's header carries it.
func (k *DPoPKey) JWK() map[string]any {
	out := make(map[string]any, len(k.jwk))
	for name, v := range k.jwk {
		out[name] = v
	}
	return out
}

// Proof returns a DPoP proof (RFC 9449 §4.2) for a request of method to
// uri presenting token: typ dpop+jwt, the key's alg and public jwk, a
// random jti, htm, htu, iat now and ath, the token's hash ("" for no
// token, as at a token endpoint).
func (k *DPoPKey) Proof(method, uri, token string) string {
	return k.ProofWith(method, uri, token, nil, nil)
}

// ProofWith returns Proof's proof with header and c merged over its header
// and claims (a nil value removes a member), signed with k whatever they
// say: for a nonce (Payload{"nonce": n}) and for broken proofs, such as an
// old iat, another htm, typ JWT or a jwk with the private key.
func (k *DPoPKey) ProofWith(method, uri, token string, header map[string]any, c Payload) string {
	p := map[string]any{"jti": rand.Text(), "htm": method, "htu": uri, "iat": time.Now().Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		p["ath"] = b64(sum[:])
	}
	merge(p, c)
	for name, v := range p {
		if t, ok := v.(time.Time); ok {
			p[name] = t.Unix()
		}
	}
	h := map[string]any{"typ": "dpop+jwt", "alg": k.k.alg, "jwk": k.JWK()}
	merge(h, header)
	return signWith(k.k, mustJSON(h), mustJSON(p))
}

// CertificateConfirmation returns the cnf claim binding a token to the
// client certificate cert (RFC 8705 §3.1, x5t#S256), for Token,
// TokenWith and ReferenceToken.
func CertificateConfirmation(cert *x509.Certificate) map[string]any {
	sum := sha256.Sum256(cert.Raw)
	return map[string]any{"x5t#S256": b64(sum[:])}
}
