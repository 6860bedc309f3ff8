package bearer

import (
	"container/heap"
	"context"
	"errors"
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

	// Subscribe calls deliver with every revocation in force, then
	// synced, then deliver with each one recorded afterwards, until ctx
	// ends or the store fails, and returns. A Validator calls it once it
	// starts and again, after a pause, whenever it returns before the
	// Validator is closed, so what was missed meanwhile is delivered then.
	// A store that replays again without returning (after a reconnection,
	// say) may call synced again; the first call is the one that counts:
	// until then the Validator is not in sync (Status.RevocationsSynced,
	// Ready, Config.RequireRevocationSync). deliver and synced are safe
	// for concurrent use and never block on the network.
	Subscribe(ctx context.Context, deliver func(Revocation), synced func()) error

	// FirstSeen records id until expires and reports whether it was not
	// recorded already, in one atomic step, as Redis's SET id 1 NX PXAT
	// does. id names a logout token (its iss and jti), which the logout
	// endpoint refuses once seen, or a DPoP proof, which is accepted once.
	//
	// Its security property: an id recorded is never forgotten before it
	// expires, so a proof is accepted at most once however many others
	// are sent meanwhile. A store that cannot record one more id (full,
	// or unreachable) returns an error, and the request is refused with
	// 503 and Retry-After rather than admitted unchecked. The default
	// memory of a process holds 65 536 ids: beyond that many proofs within
	// DPoPConfig.ProofAge (plus twice Config.Leeway), new proofs are
	// refused until the oldest expire. Redis (stores/redis) must likewise
	// never evict them: see docs/replicas.md.
	FirstSeen(ctx context.Context, id string, expires time.Time) (bool, error)
}

// memoryRevocations is the default RevocationStore. The Validator's own
// copy is the only record of revocations a single replica needs, so it
// keeps only the ids seen (logout tokens, DPoP proofs): at most maxSeen,
// each until it expires and never less, since an id forgotten early is a
// replay accepted. When all of them are unexpired, FirstSeen refuses to
// record more (errSeenFull) until the first expires.
type memoryRevocations struct {
	mu      sync.Mutex
	seen    map[string]time.Time
	expiry  seenHeap // the ids of seen, soonest to expire first
	maxSeen int
}

const maxSeenIDs = 1 << 16

func newMemoryRevocations() *memoryRevocations {
	return &memoryRevocations{seen: make(map[string]time.Time), maxSeen: maxSeenIDs}
}

func (*memoryRevocations) Revoke(context.Context, Revocation) error { return nil }

// Subscribe has nothing to deliver: no other replica shares this store.
func (*memoryRevocations) Subscribe(ctx context.Context, _ func(Revocation), synced func()) error {
	synced()
	<-ctx.Done()
	return nil
}

func (m *memoryRevocations) FirstSeen(_ context.Context, id string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for len(m.expiry) > 0 && !now.Before(m.expiry[0].expires) {
		delete(m.seen, heap.Pop(&m.expiry).(seenID).id)
	}
	if _, ok := m.seen[id]; ok {
		return false, nil
	}
	if len(m.seen) >= m.maxSeen {
		return false, &errSeenFull{retry: m.expiry[0].expires.Sub(now)}
	}
	m.seen[id] = expires
	heap.Push(&m.expiry, seenID{id: id, expires: expires})
	return true, nil
}

// errSeenFull is FirstSeen's answer when the memory holds as many
// unexpired ids as it may: retry is when the first expires.
type errSeenFull struct{ retry time.Duration }

func (e *errSeenFull) Error() string {
	return "bearer: the memory of ids seen is full of unexpired ones"
}

// retryAfterOf says when a store that failed may have room again.
func retryAfterOf(err error) time.Duration {
	var full *errSeenFull
	if errors.As(err, &full) {
		return full.retry
	}
	return time.Second
}

// seenHeap is a min-heap of ids by expiry (container/heap).
type seenHeap []seenID

type seenID struct {
	id      string
	expires time.Time
}

func (h seenHeap) Len() int           { return len(h) }
func (h seenHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h seenHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *seenHeap) Push(x any)        { *h = append(*h, x.(seenID)) }
func (h *seenHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
