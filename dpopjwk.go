package bearer

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
)

// proofKey is the public key a DPoP proof embeds (RFC 9449 §4.2), and
// the members of private and symmetric keys (RFC 7518 §6), of which it
// must have none (§4.3 point 7).
type proofKey struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`

	D   json.RawMessage `json:"d"`
	P   json.RawMessage `json:"p"`
	Q   json.RawMessage `json:"q"`
	DP  json.RawMessage `json:"dp"`
	DQ  json.RawMessage `json:"dq"`
	QI  json.RawMessage `json:"qi"`
	Oth json.RawMessage `json:"oth"`
	K   json.RawMessage `json:"k"`
}

func (k *proofKey) private() bool {
	return k.D != nil || k.P != nil || k.Q != nil || k.DP != nil || k.DQ != nil || k.QI != nil || k.Oth != nil || k.K != nil
}

// b64url refuses what a canonical encoding would not produce, so that one
// key has one thumbprint.
var b64url = base64.RawURLEncoding.Strict()

var errProofKey = errors.New("unusable DPoP proof key")

// parseProofKey reads the jwk header of a proof and returns the key and
// its RFC 7638 SHA-256 thumbprint, base64url-encoded.
func parseProofKey(raw json.RawMessage) (any, string, error) {
	var k proofKey
	if raw == nil || json.Unmarshal(raw, &k) != nil || k.private() {
		return nil, "", errProofKey
	}
	var key any
	var canonical string // RFC 7638 §3.2: required members, in order, no white space
	switch k.Kty {
	case "EC":
		curve, size := ecCurve(k.Crv)
		x, errX := b64url.DecodeString(k.X)
		y, errY := b64url.DecodeString(k.Y)
		if curve == nil || errX != nil || errY != nil || len(x) != size || len(y) != size {
			return nil, "", errProofKey
		}
		// ecdh refuses points off the curve.
		if _, err := ecdhCurve(k.Crv).NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
			return nil, "", errProofKey
		}
		key = &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		canonical = `{"crv":"` + k.Crv + `","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`
	case "RSA":
		n, errN := b64url.DecodeString(k.N)
		e, errE := b64url.DecodeString(k.E)
		if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 || n[0] == 0 || e[0] == 0 {
			return nil, "", errProofKey
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		// As for the authority's keys: no RSA key under 2048 bits.
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return nil, "", errProofKey
		}
		key = pub
		canonical = `{"e":"` + k.E + `","kty":"RSA","n":"` + k.N + `"}`
	case "OKP":
		x, err := b64url.DecodeString(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, "", errProofKey
		}
		key = ed25519.PublicKey(x)
		canonical = `{"crv":"Ed25519","kty":"OKP","x":"` + k.X + `"}`
	default:
		return nil, "", errProofKey
	}
	sum := sha256.Sum256([]byte(canonical))
	return key, base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

func ecCurve(crv string) (elliptic.Curve, int) {
	switch crv {
	case "P-256":
		return elliptic.P256(), 32
	case "P-384":
		return elliptic.P384(), 48
	case "P-521":
		return elliptic.P521(), 66
	}
	return nil, 0
}

func ecdhCurve(crv string) ecdh.Curve {
	switch crv {
	case "P-384":
		return ecdh.P384()
	case "P-521":
		return ecdh.P521()
	}
	return ecdh.P256()
}
