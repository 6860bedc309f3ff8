package signals

import (
	"context"
	"errors"
	"sync"
	"time"
)

// maxSeen bounds the jtis a Receiver without a Config.Store remembers:
// beyond that many SETs within MaxAge, new ones get 503 until the oldest
// expire, rather than be remembered less long than promised.
const maxSeen = 1 << 16

// memorySeen records the jtis seen in this process, each until it
// expires.
type memorySeen struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newMemorySeen() *memorySeen { return &memorySeen{seen: make(map[string]time.Time)} }

var errSeenFull = errors.New("signals: the memory of SETs seen is full of unexpired ones")

func (m *memorySeen) FirstSeen(_ context.Context, id string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if t, ok := m.seen[id]; ok && now.Before(t) {
		return false, nil
	}
	if len(m.seen) >= maxSeen {
		for k, t := range m.seen {
			if !now.Before(t) {
				delete(m.seen, k)
			}
		}
		if len(m.seen) >= maxSeen {
			return false, errSeenFull
		}
	}
	m.seen[id] = expires
	return true, nil
}
