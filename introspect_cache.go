package bearer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// IntrospectionCache keeps introspection results between requests; set
// one in Config.IntrospectionCache to replace the in-memory cache, for example
// with a store shared by several replicas. It must be safe for concurrent
// use.
//
// Keys are the hex SHA-256 of a token, never the token itself. A store that
// cannot answer reports a miss or drops the value: the authority is then
// asked again, which is slower but never wrong. A store shared by several
// APIs must keep their entries apart (with a key prefix per API, say),
// since an authority may judge one token differently for each API. A
// Result survives a round trip through encoding/json.
type IntrospectionCache interface {
	// Get returns the result stored under key, if it has not expired.
	Get(ctx context.Context, key string) (*Result, bool)
	// Put stores r under key for ttl, which is always positive.
	Put(ctx context.Context, key string, r *Result, ttl time.Duration)
	// Delete removes what is stored under key, if anything.
	Delete(ctx context.Context, key string)
}

// cacheKey is the store key of token.
func cacheKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	var key [2 * sha256.Size]byte
	hex.Encode(key[:], sum[:])
	return string(key[:])
}

// memoryStore is the default IntrospectionCache: a bounded LRU whose
// entries each carry their own expiry. (The library's expirable LRU has
// one TTL for all entries and a cleanup goroutine that cannot be stopped;
// expired entries here are dropped when read, or by Put.)
type memoryStore struct {
	lru *lru.Cache[string, memoryEntry]
}

type memoryEntry struct {
	r       *Result
	expires time.Time
}

func newMemoryStore(size int) *memoryStore {
	c, err := lru.New[string, memoryEntry](size)
	if err != nil {
		panic("bearer: " + err.Error()) // size is checked by settings
	}
	return &memoryStore{lru: c}
}

func (m *memoryStore) Get(_ context.Context, key string) (*Result, bool) {
	e, ok := m.lru.Get(key)
	if !ok {
		return nil, false
	}
	if !time.Now().Before(e.expires) {
		m.lru.Remove(key)
		return nil, false
	}
	return e.r, true
}

// Put keeps r for ttl, and drops the least recently used answers while
// they have expired, two at most, as hashLRU.add does and for its reason.
func (m *memoryStore) Put(_ context.Context, key string, r *Result, ttl time.Duration) {
	now := time.Now()
	for range 2 {
		k, e, ok := m.lru.GetOldest()
		if !ok || now.Before(e.expires) {
			break
		}
		m.lru.Remove(k)
	}
	m.lru.Add(key, memoryEntry{r: r, expires: now.Add(ttl)})
}

func (m *memoryStore) Delete(_ context.Context, key string) {
	m.lru.Remove(key)
}

// entries is the number of answers in the in-memory cache; zero when
// there is none (no introspection, caching off, or an IntrospectionCache).
func (in *Introspector) entries() int {
	if in == nil {
		return 0
	}
	if m, ok := in.store.(*memoryStore); ok {
		return m.lru.Len()
	}
	return 0
}

// noStore keeps nothing: Config.CacheSize < 0 turns caching off.
type noStore struct{}

func (noStore) Get(context.Context, string) (*Result, bool)         { return nil, false }
func (noStore) Put(context.Context, string, *Result, time.Duration) {}
func (noStore) Delete(context.Context, string)                      {}
