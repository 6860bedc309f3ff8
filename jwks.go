package bearer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/MicahParks/jwkset"
)

// publicKey is one verification key with the metadata that limits its use.
type publicKey struct {
	kid string
	alg string   // empty: any algorithm of the key's type
	use string   // empty or "sig"
	ops []string // key_ops; empty means unrestricted
	key crypto.PublicKey

	// retired is set once the key is no longer published, so that tokens
	// it verified are no longer served from the cache.
	retired atomic.Bool
}

// sameAs reports whether k and o are the same published key.
func (k *publicKey) sameAs(o *publicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := k.key.(equaler)
	return ok && k.kid == o.kid && k.alg == o.alg && k.use == o.use && slices.Equal(k.ops, o.ops) && e.Equal(o.key)
}

// fits reports whether the key may verify a JWS with alg. The algorithm
// family must match the key type and curve, so an RSA key can never serve
// as an HMAC secret, nor a P-256 key for ES512.
func (k *publicKey) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	if k.use != "" && k.use != "sig" {
		return false
	}
	if len(k.ops) > 0 && !slices.Contains(k.ops, "verify") {
		return false
	}
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return key.Curve == elliptic.P256()
		case "ES384":
			return key.Curve == elliptic.P384()
		case "ES512":
			return key.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// newPublicKey checks that key is a usable public key and wraps it.
func newPublicKey(kid, alg, use string, ops []string, key crypto.PublicKey) (*publicKey, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is shorter than %d", k.N.BitLen(), minRSABits)
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521() {
			return nil, errors.New("unsupported elliptic curve")
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	return &publicKey{kid: kid, alg: alg, use: use, ops: ops, key: key}, nil
}

// parseJWKS reads a JWK Set. A key that cannot be used is skipped (and
// reported), so one odd key does not take the others down with it.
func parseJWKS(body []byte) (keys []*publicKey, skipped []error, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("JWK Set: %w", err)
	}
	if doc.Keys == nil {
		return nil, nil, errors.New(`JWK Set: no "keys" member`)
	}
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

// parseJWK reads one public JWK. Private members, if an authority
// publishes them by mistake, are ignored; symmetric keys are refused.
func parseJWK(raw []byte) (*publicKey, error) {
	var m jwkset.JWKMarshal
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m.KTY == jwkset.KtyOct {
		return nil, errors.New("symmetric keys are not accepted from a JWK Set")
	}
	// Only public members go to jwkset, so a stray "d" can neither be
	// loaded nor make the key fail validation.
	m.D, m.P, m.Q, m.DP, m.DQ, m.QI, m.K, m.OTH = "", "", "", "", "", "", "", nil
	// x5u would make jwkset fetch a URL; a key set must be self-contained.
	if m.X5U != "" {
		return nil, errors.New("x5u is not supported")
	}
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return nil, err
	}
	ops := make([]string, len(m.KEYOPS))
	for i, op := range m.KEYOPS {
		ops[i] = string(op)
	}
	return newPublicKey(m.KID, string(m.ALG), string(m.USE), ops, jwk.Key())
}
