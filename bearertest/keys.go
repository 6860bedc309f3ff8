package bearertest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // hashes used by the JWS algorithms
	_ "crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// algorithm describes how one JWS "alg" signs.
type algorithm struct {
	hash  crypto.Hash    // 0 for EdDSA, which hashes internally
	pss   bool           // RSASSA-PSS rather than PKCS #1 v1.5
	curve elliptic.Curve // ECDSA curve; nil for other key types
}

// algorithms lists the signing algorithms the authority supports, in the
// order their keys are published: ML-DSA's last, when built with Go 1.27
// or later (mldsaAlgorithms).
var algorithms = slices.Concat([]string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}, mldsaAlgorithms)

var algorithmByName = map[string]algorithm{
	"RS256": {hash: crypto.SHA256},
	"RS384": {hash: crypto.SHA384},
	"RS512": {hash: crypto.SHA512},
	"PS256": {hash: crypto.SHA256, pss: true},
	"PS384": {hash: crypto.SHA384, pss: true},
	"PS512": {hash: crypto.SHA512, pss: true},
	"ES256": {hash: crypto.SHA256, curve: elliptic.P256()},
	"ES384": {hash: crypto.SHA384, curve: elliptic.P384()},
	"ES512": {hash: crypto.SHA512, curve: elliptic.P521()},
	"EdDSA": {},
}

// hmacAlgorithms are the JWS algorithms signed with the shared secret.
var hmacAlgorithms = map[string]crypto.Hash{"HS256": crypto.SHA256, "HS384": crypto.SHA384, "HS512": crypto.SHA512}

// none is the unsecured JWS "alg": it has no key and an empty signature. It
// is accepted by the minting methods so tests can check it is rejected.
const none = "none"

// signingKey is a private key bound to one algorithm and key ID, or for
// HS* the shared secret, which has no key ID.
type signingKey struct {
	kid    string
	alg    string
	priv   crypto.Signer
	secret []byte
}

// publishedKey is one member of the JWKS "keys" array. kid is empty when a
// raw entry has no string kid.
type publishedKey struct {
	kid string
	jwk []byte
}

// initKeys creates and publishes one key per algorithm. RSA key generation
// is slow, so a single RSA key backs all six RS* and PS* entries (each still
// has its own kid and alg); RotateKey gives an algorithm a key of its own.
// It also makes the shared secret of HS256, HS384 and HS512, which is
// never published.
func (a *Authority) initKeys() error {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	a.current = make(map[string]*signingKey, len(algorithms)+len(hmacAlgorithms))
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	for alg := range hmacAlgorithms {
		a.current[alg] = &signingKey{alg: alg, secret: secret}
	}
	for _, alg := range algorithms {
		var priv crypto.Signer = rsaKey
		if alg[0] != 'R' && alg[0] != 'P' {
			if priv, err = generateKey(alg); err != nil {
				return err
			}
		}
		k, err := newSigningKey(alg, priv)
		if err != nil {
			return err
		}
		a.current[alg] = k
		a.published = append(a.published, publishedKey{kid: k.kid, jwk: k.jwk()})
	}
	return nil
}

func generateKey(alg string) (crypto.Signer, error) {
	spec := algorithmByName[alg]
	switch {
	case alg == "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case slices.Contains(mldsaAlgorithms, alg):
		return generateMLDSAKey(alg)
	case spec.curve != nil:
		return ecdsa.GenerateKey(spec.curve, rand.Reader)
	default:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
}

func newSigningKey(alg string, priv crypto.Signer) (*signingKey, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	// A readable prefix makes failing tests easier to follow.
	return &signingKey{kid: strings.ToLower(alg) + "-" + hex.EncodeToString(b[:]), alg: alg, priv: priv}, nil
}

// jwk returns the public JWK of k, with kid, kty, alg and use always set.
func (k *signingKey) jwk() []byte {
	m := map[string]string{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch pub := k.priv.Public().(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64(pub.N.Bytes())
		m["e"] = b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		// The uncompressed point is 0x04 || X || Y with fixed-length
		// coordinates, as RFC 7518 requires for "x" and "y".
		ek, err := pub.ECDH()
		if err != nil {
			panic("bearertest: " + err.Error())
		}
		raw := ek.Bytes()
		size := (len(raw) - 1) / 2
		m["kty"] = "EC"
		m["crv"] = pub.Curve.Params().Name
		m["x"] = b64(raw[1 : 1+size])
		m["y"] = b64(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64(pub)
	case interface{ Bytes() []byte }: // *mldsa.PublicKey (RFC 9964 §3)
		m["kty"] = "AKP"
		m["pub"] = b64(pub.Bytes())
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic("bearertest: " + err.Error())
	}
	return b
}

// sign returns the JWS signature of input made with k.
func (k *signingKey) sign(input []byte) ([]byte, error) {
	if k.secret != nil {
		mac := hmac.New(hmacAlgorithms[k.alg].New, k.secret)
		mac.Write(input)
		return mac.Sum(nil), nil
	}
	spec := algorithmByName[k.alg]
	var digest []byte
	if spec.hash != 0 {
		h := spec.hash.New()
		h.Write(input)
		digest = h.Sum(nil)
	}
	switch priv := k.priv.(type) {
	case *rsa.PrivateKey:
		if spec.pss {
			// RFC 7518 §3.5: the salt is as long as the hash.
			return rsa.SignPSS(rand.Reader, priv, spec.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, priv, spec.hash, digest)
	case *ecdsa.PrivateKey:
		// JWS wants R || S, each padded to the curve size, not ASN.1 DER.
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
		if err != nil {
			return nil, err
		}
		size := (priv.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig, nil
	case ed25519.PrivateKey:
		return ed25519.Sign(priv, input), nil
	case nil:
		return nil, fmt.Errorf("unsupported key type %T", k.priv)
	}
	// ML-DSA (RFC 9964 §5): the message itself, pure ML-DSA with an empty
	// context, which is what a zero hash asks crypto/mldsa for.
	return k.priv.Sign(rand.Reader, input, crypto.Hash(0))
}

// key returns the current key for alg, or nil for "none". It panics on an
// unsupported alg, which is a mistake in the calling test.
func (a *Authority) key(alg string) *signingKey {
	if alg == none {
		return nil
	}
	a.mu.Lock()
	k, ok := a.current[alg]
	a.mu.Unlock()
	if !ok {
		panic(fmt.Sprintf("bearertest: unsupported alg %q", alg))
	}
	return k
}

// KeyID returns the kid of the current key for alg ("" for "none" and the
// HS* algorithms).
func (a *Authority) KeyID(alg string) string {
	if k := a.key(alg); k != nil {
		return k.kid
	}
	return ""
}

// PublicKey returns the current public key for alg: an *rsa.PublicKey, an
// *ecdsa.PublicKey, an ed25519.PublicKey or an *mldsa.PublicKey (nil for
// "none" and the HS* algorithms), so tests can configure static keys or check what a
// validator fetched.
func (a *Authority) PublicKey(alg string) crypto.PublicKey {
	if k := a.key(alg); k != nil && k.priv != nil {
		return k.priv.Public()
	}
	return nil
}

// SharedSecret returns the secret the authority signs HS256, HS384 and
// HS512 tokens with (TokenWith, Sign): 32 random bytes made at start, for
// the Config.SharedSecret of a validator under test. Unlike its keys, it
// is never published, and RotateKey does not change it.
func (a *Authority) SharedSecret() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return bytes.Clone(a.current["HS256"].secret)
}

// RotateKey generates a fresh key for alg, makes it the one new tokens are
// signed with, publishes it, and returns its kid. Keys it replaces stay
// published until Unpublish, as during a real authority's rollover.
func (a *Authority) RotateKey(alg string) string {
	if !slices.Contains(algorithms, alg) {
		panic(fmt.Sprintf("bearertest: unsupported alg %q", alg))
	}
	priv, err := generateKey(alg)
	if err != nil {
		panic("bearertest: " + err.Error())
	}
	k, err := newSigningKey(alg, priv)
	if err != nil {
		panic("bearertest: " + err.Error())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.current[alg] = k
	a.published = append(a.published, publishedKey{kid: k.kid, jwk: k.jwk()})
	return k.kid
}

// Unpublish removes every published key whose kid is kid, including raw ones.
// A current key that is unpublished still signs new tokens, which a validator
// must then fail to verify: the "unknown kid" case.
func (a *Authority) Unpublish(kid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.published = slices.DeleteFunc(a.published, func(p publishedKey) bool { return p.kid == kid })
}

// PublishRaw appends each jwk verbatim to the published key list, without
// checking it, so tests can publish invalid keys, duplicate kids, private
// members or non-objects. Unpublish removes an entry by its "kid" member if
// it has a string one.
func (a *Authority) PublishRaw(jwk ...json.RawMessage) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, j := range jwk {
		var m struct {
			Kid any `json:"kid"`
		}
		_ = json.Unmarshal(j, &m) // best effort: raw entries need not be objects
		kid, _ := m.Kid.(string)
		a.published = append(a.published, publishedKey{kid: kid, jwk: bytes.Clone(j)})
	}
}

// JWKS returns the JWK Set document the JWKS endpoint serves when no fault is
// set.
func (a *Authority) JWKS() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	// Assembled by hand rather than with json.Marshal so that raw entries
	// reach clients exactly as given, even when they are not valid JSON.
	var b bytes.Buffer
	b.WriteString(`{"keys":[`)
	for i, p := range a.published {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(p.jwk)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
