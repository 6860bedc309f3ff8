package redis

import (
	"time"

	"github.com/accesstoken/bearer"
	lru "github.com/hashicorp/golang-lru/v2"
)

// localTier holds decoded introspection answers in front of Redis, so that
// a hit costs what bearer's in-memory cache costs: a map lookup.
type localTier struct {
	lru *lru.Cache[string, localEntry]
}

type localEntry struct {
	r       *bearer.Result
	expires time.Time
}

func newLocalTier(size int) *localTier {
	c, err := lru.New[string, localEntry](size)
	if err != nil {
		panic("bearer/redis: " + err.Error()) // size is positive
	}
	return &localTier{lru: c}
}

func (l *localTier) get(key string) (*bearer.Result, bool) {
	e, ok := l.lru.Get(key)
	if !ok {
		return nil, false
	}
	if !time.Now().Before(e.expires) {
		l.lru.Remove(key)
		return nil, false
	}
	return e.r, true
}

// put keeps r until ttl has passed, and drops the least recently used
// entries while they have expired, two at most: an answer is asked for
// within its TTL (a minute by default) or never again, so the tier holds
// about the answers still live, not LocalCacheSize answers, most of them
// dead, until the LRU pushes them out.
func (l *localTier) put(key string, r *bearer.Result, ttl time.Duration) {
	now := time.Now()
	l.lru.Add(key, localEntry{r: r, expires: now.Add(ttl)})
	for range 2 {
		k, e, ok := l.lru.GetOldest()
		if !ok || now.Before(e.expires) {
			return
		}
		l.lru.Remove(k)
	}
}

func (l *localTier) remove(key string) { l.lru.Remove(key) }

func (l *localTier) purge() { l.lru.Purge() }
