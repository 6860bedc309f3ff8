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
	default:
		// An ML-DSA key serves its own parameter set only (RFC 9964 §5).
		name, ok := mldsaAlgorithm(key)
		return ok && name == alg
	}
	return false
}

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// newPublicKey checks that key is a usable public key and wraps it. Its
// errors are *keySkip values, so a key set can say why it left a key out.
func newPublicKey(kid, alg, use string, ops []string, key crypto.PublicKey) (*publicKey, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		// crypto/rsa refuses such exponents at every verification: the key
		// would sit in the set and fail each token it names.
		if k.E < 3 || k.E%2 == 0 || k.N.Bit(0) == 0 {
			return nil, skip(skipMalformed, errors.New("RSA key with an even modulus or an exponent that is even or below 3"))
		}
		if k.N.BitLen() < minRSABits {
			return nil, skip(skipWeak, fmt.Errorf("RSA key of %d bits is shorter than %d", k.N.BitLen(), minRSABits))
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521() {
			return nil, skip(skipCurve, errors.New("unsupported elliptic curve"))
		}
	case ed25519.PublicKey:
	default:
		if _, ok := mldsaAlgorithm(key); !ok {
			return nil, skip(skipKeyType, fmt.Errorf("unsupported key type %T", key))
		}
	}
	return &publicKey{kid: kid, alg: alg, use: use, ops: ops, key: key}, nil
}

// Why a key of a JWK Set is left out (observe.Refresh.Skipped): a closed
// set of names, fit for a metric's label. A key gets one, that of the
// first check parseJWK finds it fails.
const (
	skipMalformed  = "malformed"             // not a JWK: members missing, of the wrong type, or not decoding; x5c not matching
	skipSymmetric  = "symmetric_key"         // kty "oct": a secret has no place in a public set
	skipKeyType    = "unsupported_key_type"  // a kty this library does not verify with
	skipCurve      = "unsupported_curve"     // EC or OKP on a curve other than P-256, P-384, P-521, Ed25519
	skipEncryption = "encryption_key"        // use other than "sig", key_ops without "verify", or a JWE alg
	skipAlgorithm  = "unsupported_algorithm" // an alg this library does not verify, or that does not fit the key
	skipWeak       = "weak_key"              // RSA under 2048 bits
)

// keySkip is why one key is left out of a JWK Set.
type keySkip struct {
	reason string // one of the skip* names
	err    error
}

func skip(reason string, err error) *keySkip { return &keySkip{reason: reason, err: err} }

func (e *keySkip) Error() string { return e.err.Error() }
func (e *keySkip) Unwrap() error { return e.err }

// skipReason is the reason err, from parseJWK, gives; skipMalformed for an
// error that names none (JSON or jwkset's).
func skipReason(err error) string {
	var s *keySkip
	if errors.As(err, &s) {
		return s.reason
	}
	return skipMalformed
}

// skippedKey is a key left out of a JWK Set: where it was, and why.
type skippedKey struct {
	index  int
	kid    string // as published: the authority chose it
	reason string
	err    error
}

// parseJWKS reads a JWK Set. A key that cannot be used is skipped (and
// reported), so one odd key does not take the others down with it.
func parseJWKS(body []byte) (keys []*publicKey, skipped []skippedKey, err error) {
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
			var id struct {
				KID any `json:"kid"`
			}
			_ = json.Unmarshal(raw, &id)
			kid, _ := id.KID.(string)
			skipped = append(skipped, skippedKey{index: i, kid: kid, reason: skipReason(err), err: err})
			continue
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

// encryptionAlgorithm reports whether alg is a JWE key management
// algorithm (RFC 7518 §4): the key is published for encryption.
func encryptionAlgorithm(alg string) bool {
	for _, p := range []string{"RSA1_5", "RSA-OAEP", "ECDH-ES", "dir", "PBES2-"} {
		if strings.HasPrefix(alg, p) {
			return true
		}
	}
	return strings.HasPrefix(alg, "A") && strings.HasSuffix(alg, "KW")
}

// parseJWK reads one public JWK. Private members, if an authority
// publishes them by mistake, are ignored; members it does not know are
// ignored too (RFC 7517 §4). Its errors are *keySkip values, or JSON's
// and jwkset's for a malformed key.
func parseJWK(raw []byte) (*publicKey, error) {
	var m jwkset.JWKMarshal
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, skip(skipMalformed, err)
	}
	switch m.KTY {
	case jwkset.KtyOct:
		return nil, skip(skipSymmetric, errors.New("symmetric keys are not accepted from a JWK Set"))
	case jwkset.KtyRSA:
	case jwkset.KtyEC:
		if m.CRV != jwkset.CrvP256 && m.CRV != jwkset.CrvP384 && m.CRV != jwkset.CrvP521 {
			return nil, skip(skipCurve, fmt.Errorf("EC key on curve %q", m.CRV))
		}
	case jwkset.KtyOKP:
		if m.CRV != jwkset.CrvEd25519 {
			return nil, skip(skipCurve, fmt.Errorf("OKP key on curve %q", m.CRV))
		}
	case "AKP": // ML-DSA (RFC 9964): parseAKP, below
	case "":
		return nil, skip(skipMalformed, errors.New(`no "kty"`))
	default:
		return nil, skip(skipKeyType, fmt.Errorf("key type %q", m.KTY))
	}
	if m.USE != "" && m.USE != jwkset.UseSig {
		return nil, skip(skipEncryption, fmt.Errorf("use %q", m.USE))
	}
	ops := make([]string, len(m.KEYOPS))
	for i, op := range m.KEYOPS {
		ops[i] = string(op)
	}
	if len(ops) > 0 && !slices.Contains(ops, "verify") {
		return nil, skip(skipEncryption, fmt.Errorf("key_ops %q", ops))
	}
	alg := string(m.ALG)
	if encryptionAlgorithm(alg) {
		return nil, skip(skipEncryption, fmt.Errorf("alg %q", alg))
	}
	if m.KTY == "AKP" {
		return parseAKP(raw, m.KID, alg, string(m.USE), ops)
	}
	// Only public members go to jwkset, so a stray "d" can neither be
	// loaded nor make the key fail validation.
	m.D, m.P, m.Q, m.DP, m.DQ, m.QI, m.K, m.OTH = "", "", "", "", "", "", "", nil
	// x5u would make jwkset fetch a URL: it is left unread, as the other
	// members hold the key. x5c, inline, must match them.
	m.X5U = ""
	// use and key_ops were judged above, whatever other values they hold.
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{SkipUse: true, SkipKeyOps: true})
	if err != nil {
		return nil, skip(skipMalformed, err)
	}
	k, err := newPublicKey(m.KID, alg, string(m.USE), ops, jwk.Key())
	if err != nil {
		return nil, err
	}
	// An alg no token can have with this key would leave it unused.
	if alg != "" && !(slices.Contains(supportedAlgorithms, alg) && k.fits(alg)) {
		return nil, skip(skipAlgorithm, fmt.Errorf("alg %q on a %s key", alg, m.KTY))
	}
	return k, nil
}
