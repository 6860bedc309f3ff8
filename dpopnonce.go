package bearer

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
)

// defaultDPoPNonceLifetime is how long an issued DPoP nonce is accepted
// unless DPoPConfig.NonceLifetime says otherwise.
const defaultDPoPNonceLifetime = 5 * time.Minute

// nonces issues and checks DPoP nonces (RFC 9449 §9) without state: a
// nonce is its issue time and random bytes, under an HMAC of the secret,
// so any replica with the secret accepts it and no one without can make
// one.
type nonces struct {
	secret   []byte
	lifetime time.Duration
	leeway   time.Duration
}

const (
	nonceTime = 8  // big-endian Unix seconds
	nonceRand = 8  // unpredictable
	nonceMAC  = 16 // truncated HMAC-SHA256
)

func newNonces(secret []byte, lifetime, leeway time.Duration) (*nonces, error) {
	if len(secret) < 32 {
		return nil, errors.New("bearer: Config.DPoP.NonceSecret must be at least 32 bytes")
	}
	switch {
	case lifetime < 0:
		return nil, errors.New("bearer: Config.DPoP.NonceLifetime is negative")
	case lifetime == 0:
		lifetime = defaultDPoPNonceLifetime
	}
	return &nonces{secret: secret, lifetime: lifetime, leeway: leeway}, nil
}

func (n *nonces) mac(b []byte) []byte {
	m := hmac.New(sha256.New, n.secret)
	m.Write(b[:nonceTime+nonceRand])
	return m.Sum(nil)[:nonceMAC]
}

// issue returns a new nonce, issued at now.
func (n *nonces) issue(now time.Time) string {
	var b [nonceTime + nonceRand + nonceMAC]byte
	binary.BigEndian.PutUint64(b[:nonceTime], uint64(now.Unix()))
	_, _ = rand.Read(b[nonceTime : nonceTime+nonceRand])
	copy(b[nonceTime+nonceRand:], n.mac(b[:]))
	return b64.EncodeToString(b[:])
}

// valid reports whether nonce was issued by a holder of the secret less
// than the lifetime before now.
func (n *nonces) valid(nonce string, now time.Time) bool {
	b, err := b64.DecodeString(nonce)
	if err != nil || len(b) != nonceTime+nonceRand+nonceMAC || !hmac.Equal(n.mac(b), b[nonceTime+nonceRand:]) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:nonceTime])), 0)
	return !issued.After(now.Add(n.leeway)) && now.Sub(issued) < n.lifetime
}
