package bearer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"math/big"
	"strings"
)

var errBadSignature = errors.New("signature does not verify")

// pssVerify accepts any salt length, as golang-jwt does: some signers use
// the longest salt rather than RFC 7518's hash length.
var pssVerify = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}

// verifySignature checks sig, a JWS signature with alg over input, with
// key: a *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or, on Go
// 1.27 and later, *mldsa.PublicKey, or for HS*
// the shared secret as []byte. The key must already fit alg (see
// publicKey.fits); a mismatch fails here too. It is the standard library's
// verification, as golang-jwt's SigningMethod does it, without the copy of
// the input and the hash state that one allocates on every call.
func verifySignature(alg, input string, sig []byte, key any) error {
	msg := bytesOf(input) // read only
	switch k := key.(type) {
	case *rsa.PublicKey:
		var buf [sha512.Size]byte
		switch {
		case strings.HasPrefix(alg, "RS"):
			if h, digest, ok := digestOf(alg, msg, &buf); ok {
				return rsa.VerifyPKCS1v15(k, h, digest, sig)
			}
		case strings.HasPrefix(alg, "PS"):
			// VerifyPSS keeps its input, so this one goes to the heap.
			var pss [sha512.Size]byte
			if h, digest, ok := digestOf(alg, msg, &pss); ok {
				return rsa.VerifyPSS(k, h, digest, sig, pssVerify)
			}
		}
	case *ecdsa.PublicKey:
		var buf [sha512.Size]byte
		_, digest, ok := digestOf(alg, msg, &buf)
		size := (k.Curve.Params().BitSize + 7) / 8
		// RFC 7518 §3.4: R and S, each as long as the curve's order.
		if !ok || size != ecdsaSize(alg) || len(sig) != 2*size {
			return errBadSignature
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if ecdsa.Verify(k, digest, r, s) {
			return nil
		}
	case ed25519.PublicKey:
		// ed25519.Verify panics on a key of another length.
		if alg == "EdDSA" && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig) {
			return nil
		}
	case []byte:
		newHash, ok := hmacHashes[alg]
		if !ok {
			return errBadSignature
		}
		mac := hmac.New(newHash, k)
		mac.Write(msg)
		if hmac.Equal(mac.Sum(nil), sig) {
			return nil
		}
	default:
		return verifyMLDSA(alg, msg, sig, k)
	}
	return errBadSignature
}

// digestOf hashes msg into buf with the hash alg (RS*, PS* or ES*) names.
func digestOf(alg string, msg []byte, buf *[sha512.Size]byte) (crypto.Hash, []byte, bool) {
	if len(alg) != 5 {
		return 0, nil, false
	}
	switch alg[2:] {
	case "256":
		*(*[sha256.Size]byte)(buf[:]) = sha256.Sum256(msg)
		return crypto.SHA256, buf[:sha256.Size], true
	case "384":
		*(*[sha512.Size384]byte)(buf[:]) = sha512.Sum384(msg)
		return crypto.SHA384, buf[:sha512.Size384], true
	case "512":
		*buf = sha512.Sum512(msg)
		return crypto.SHA512, buf[:], true
	}
	return 0, nil, false
}

// ecdsaSize is the byte length of R and S in an ES* signature (RFC 7518
// §3.4), 0 for another algorithm.
func ecdsaSize(alg string) int {
	switch alg {
	case "ES256":
		return 32
	case "ES384":
		return 48
	case "ES512":
		return 66
	}
	return 0
}

var hmacHashes = map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}
