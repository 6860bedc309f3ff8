package bearer

import (
	"crypto/sha256"
	"sync/atomic"
	"time"
	"unsafe"
)

// tokenHash is the SHA-256 of the whole token, the form in which a token
// is revoked (RevokeToken) and stored (introspection answers, Redis).
func tokenHash(token string) [sha256.Size]byte {
	return sha256.Sum256(bytesOf(token))
}

// bytesOf views s as bytes without copying up to MaxTokenSize bytes per
// request. The result must only be read: its users (sha256, base64
// decoding) never write to their input.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// stringOf views b as a string without copying. b must never be written
// again: validateJWT's decoded segments, which nothing writes once they
// are decoded, are its only inputs.
func stringOf(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// tokenCache remembers JWTs that passed local validation, so a token seen
// again costs a hash and a map lookup instead of a signature check. An
// entry lives until the token expires or CacheDuration passes, whichever
// comes first, and dies with the key that verified it.
type tokenCache struct {
	lru          *hashLRU
	maxAge       time.Duration
	leeway       time.Duration
	hits, misses atomic.Uint64
	admission    admission
}

// cachedToken is held by value: one allocation fewer per new token.
type cachedToken struct {
	claims  *Claims
	key     *publicKey // nil for HMAC and static keys, which never retire
	expires time.Time
}

// live reports whether the entry may still serve at now: not expired,
// and its key not retired.
func (e *cachedToken) live(now time.Time) bool {
	return now.Before(e.expires) && (e.key == nil || !e.key.retired.Load())
}

func newTokenCache(s *settings) *tokenCache {
	if s.CacheSize < 0 || s.CacheDuration < 0 {
		return nil
	}
	return &tokenCache{lru: newHashLRU(s.CacheSize), maxAge: s.CacheDuration, leeway: s.leeway, admission: newAdmission(s.CacheSize)}
}

// get returns the claims cached for token if they are still good at now.
// It counts hits; the caller counts the misses that are JWTs, with miss.
// The claims are the cache's: the caller hands out copies.
func (tc *tokenCache) get(token string, now time.Time) (*Claims, bool) {
	e, ok := tc.lru.get(token)
	if ok && e.live(now) {
		tc.counted(tc.hits.Add(1))
		return e.claims, true
	}
	if ok {
		tc.lru.remove(token)
	}
	return nil, false
}

// forget drops what is cached for token.
func (tc *tokenCache) forget(token string) { tc.lru.remove(token) }

// miss counts a JWT that was not served from the cache.
func (tc *tokenCache) miss() { tc.counted(tc.misses.Add(1)) }

// counted takes the hit or miss count just reached, and has admission
// judge each round that ends.
func (tc *tokenCache) counted(n uint64) {
	if tc.admission.roundEnds(n) {
		tc.admission.judge(tc.hits.Load(), tc.misses.Load())
	}
}

// put caches claims validated at now with key, if admission keeps them,
// and reports whether it did; a token turned away makes room instead, see
// admission.
func (tc *tokenCache) put(token string, c *Claims, key *publicKey, now time.Time) bool {
	if !tc.admission.admit(tc.lru.hash(token)) {
		tc.lru.removeOldest()
		return false
	}
	expires := c.ExpiresAt.Add(tc.leeway)
	if limit := now.Add(tc.maxAge); limit.Before(expires) {
		expires = limit
	}
	tc.lru.add(token, cachedToken{claims: c, key: key, expires: expires}, now)
	return true
}

// counts returns the cache's hits, misses and entries; zeros when caching
// is off.
func (tc *tokenCache) counts() (hits, misses uint64, entries int) {
	if tc == nil {
		return 0, 0, 0
	}
	return tc.hits.Load(), tc.misses.Load(), tc.lru.len()
}
