package bearer

import (
	"context"
	"sync"
	"time"
)

// RevocationStore carries revocations, and the logout tokens already
// received, between the replicas of an API; set one in
// Config.RevocationStore. The default keeps them in the process's memory,
// which is all one replica needs. It must be safe for concurrent use.
//
// A Validator never waits on its store while it checks a request: it
// checks its own copy of the revocations in force, to which Revoke adds at
// once and which Subscribe keeps current with what other replicas revoke.
// So a store that is down delays only what the other replicas learn, and
// Revoke and the logout endpoint report its errors.
type RevocationStore interface {
	// Revoke records r until r.Expires and delivers it to every
	// subscriber. The replica that calls it has applied r already; a
	// revocation delivered twice is harmless.
	Revoke(ctx context.Context, r Revocation) error

	// Subscribe calls deliver with every revocation in force, then with
	// each one recorded afterwards, until ctx ends or the store fails,
	// and returns. A Validator calls it once it starts and again, after a
	// pause, whenever it returns before the Validator is closed, so what
	// was missed meanwhile is delivered then. deliver is safe for
	// concurrent use and never blocks on the network.
	Subscribe(ctx context.Context, deliver func(Revocation)) error

	// FirstSeen records id until expires and reports whether it was not
	// recorded already, in one atomic step, as Redis's SET id 1 NX PXAT
	// does. id names a logout token (its iss and jti); the logout
	// endpoint refuses one seen before.
	FirstSeen(ctx context.Context, id string, expires time.Time) (bool, error)
}

// memoryRevocations is the default RevocationStore. The Validator's own
// copy is the only record of revocations a single replica needs, so it
// keeps only the logout tokens seen: at most maxSeenLogouts, the oldest
// forgotten first (a logout token replayed after that only revokes again
// what it revoked the first time).
type memoryRevocations struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	order []string // ids in the order seen
}

const maxSeenLogouts = 1 << 16

func newMemoryRevocations() *memoryRevocations {
	return &memoryRevocations{seen: make(map[string]time.Time)}
}

func (*memoryRevocations) Revoke(context.Context, Revocation) error { return nil }

// Subscribe has nothing to deliver: no other replica shares this store.
func (*memoryRevocations) Subscribe(ctx context.Context, _ func(Revocation)) error {
	<-ctx.Done()
	return nil
}

func (m *memoryRevocations) FirstSeen(_ context.Context, id string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for len(m.order) > 0 {
		oldest := m.order[0]
		if exp, ok := m.seen[oldest]; ok && now.Before(exp) && len(m.order) < maxSeenLogouts {
			break
		}
		delete(m.seen, oldest)
		m.order = m.order[1:]
	}
	if exp, ok := m.seen[id]; ok && now.Before(exp) {
		return false, nil
	}
	if _, ok := m.seen[id]; !ok {
		m.order = append(m.order, id)
	}
	m.seen[id] = expires
	return true, nil
}
