package bearer

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"math/bits"
)

// proofKey is the public key a DPoP proof embeds (RFC 9449 §4.2), as
// sent: its members are checked and its thumbprint computed before the
// key is made, so that a proof by a key other than the token's is refused
// for the price of a hash.
type proofKey struct {
	kty, crv, x, y, n, e string
	private              bool // it has a member of a private or symmetric key
}

// jwkMembers are the members of a proof's jwk that are read: the public
// ones, and those of private and symmetric keys (RFC 7518 §6), of which
// it must have none (§4.3 point 7).
var jwkMembers = []string{"kty", "crv", "x", "y", "n", "e", "d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// maxProofRSABits bounds the modulus of an RSA proof key: verifying with
// a key of 20 000 bits costs a hundred times a valid proof.
const maxProofRSABits = 4096

var errProofKey = errors.New("unusable DPoP proof key")

// parseProofKey reads the jwk header of a proof, as JSON, and returns the
// key's members and its RFC 7638 SHA-256 thumbprint, base64url-encoded.
// It checks what costs no arithmetic: the members, their encodings and
// sizes; publicKey does the rest.
func parseProofKey(raw string) (proofKey, string, error) {
	var k proofKey
	m := readMembers(raw, jwkMembers)
	for m.next() {
		m.took(k.member(&m.s, m.name))
	}
	if m.end() != nil || k.private {
		return k, "", errProofKey
	}
	var canonical string // RFC 7638 §3.2: required members, in order, no white space
	switch k.kty {
	case "EC":
		_, size := ecCurve(k.crv)
		if size == 0 || b64.DecodedLen(len(k.x)) != size || b64.DecodedLen(len(k.y)) != size || !canonicalB64(k.x) || !canonicalB64(k.y) {
			return k, "", errProofKey
		}
		canonical = `{"crv":"` + k.crv + `","kty":"EC","x":"` + k.x + `","y":"` + k.y + `"}`
	case "RSA":
		// As for the authority's keys, no modulus under 2048 bits; and none
		// over maxProofRSABits, nor an exponent of more than 32 bits.
		if len(k.n) > (maxProofRSABits/8*4+2)/3 || len(k.e) > 6 {
			return k, "", errProofKey
		}
		n, errN := b64.DecodeString(k.n)
		e, errE := b64.DecodeString(k.e)
		if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 || n[0] == 0 || e[0] == 0 {
			return k, "", errProofKey
		}
		if size := (len(n)-1)*8 + bits.Len8(n[0]); size < 2048 || size > maxProofRSABits || e[len(e)-1]%2 == 0 || len(e) == 1 && e[0] < 3 {
			return k, "", errProofKey
		}
		canonical = `{"e":"` + k.e + `","kty":"RSA","n":"` + k.n + `"}`
	case "OKP":
		if k.crv != "Ed25519" || b64.DecodedLen(len(k.x)) != ed25519.PublicKeySize || !canonicalB64(k.x) {
			return k, "", errProofKey
		}
		canonical = `{"crv":"Ed25519","kty":"OKP","x":"` + k.x + `"}`
	default:
		return k, "", errProofKey
	}
	sum := sha256.Sum256([]byte(canonical))
	return k, base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// member reads a member of the key: the public ones, jwkMembers' first
// six, are strings; any of the others makes the key private.
func (k *proofKey) member(s *jsonScanner, name []byte) (uint, error) {
	public := [...]*string{&k.kty, &k.crv, &k.x, &k.y, &k.n, &k.e}
	for i, m := range jwkMembers {
		switch {
		case string(name) != m:
		case i < len(public):
			v, err := s.str()
			*public[i] = v
			return 1 << i, err
		default:
			k.private = true
			return 1 << i, s.skip(0)
		}
	}
	return 0, s.skip(0)
}

// canonicalB64 reports whether s is base64url as b64 decodes it.
func canonicalB64(s string) bool {
	_, err := b64.DecodeString(s)
	return err == nil
}

// publicKey makes the key that parseProofKey checked: for EC, the point
// must be on the curve.
func (k *proofKey) publicKey() (any, error) {
	switch k.kty {
	case "EC":
		curve, _ := ecCurve(k.crv)
		x, _ := b64.DecodeString(k.x)
		y, _ := b64.DecodeString(k.y)
		// ecdh refuses points off the curve.
		if _, err := ecdhCurve(k.crv).NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
			return nil, errProofKey
		}
		return &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
	case "RSA":
		n, _ := b64.DecodeString(k.n)
		e, _ := b64.DecodeString(k.e)
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case "OKP":
		x, _ := b64.DecodeString(k.x)
		return ed25519.PublicKey(x), nil
	}
	return nil, errProofKey
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
