package bearer

import (
	"hash/maphash"
	"log/slog"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// revocationIndex is the Validator's own view of what is revoked, which
// every request consults. Revoke and the store write to it; requests only
// read it, and never wait on the store.
//
// A request must pay nothing measurable while nothing is revoked, and
// little with thousands of revocations: a cache hit costs well under a
// microsecond. So reading takes no lock. kinds says which kinds of
// revocation exist at all (with none, the check is one atomic load), and
// a filter of bits (a Bloom filter, two bits per value) says which values
// may be revoked; only a token with a value in the filter takes the lock
// to look at the entries themselves.
type revocationIndex struct {
	kinds  atomic.Uint32 // bit i: entries of kind i exist
	filter atomic.Pointer[revocationFilter]
	seeds  [numKinds]maphash.Seed
	max    int // entries at most
	log    *slog.Logger

	mu      sync.Mutex
	entries map[revocationKey]revocationEntry
	counts  [numKinds]int
	// queue holds each key once, oldest first, for expiry and the bound.
	queue []queuedKey
	head  int
	// stale counts entries gone since the filter was built, whose bits
	// still make lookups take the lock.
	stale int
	full  bool // the bound was hit; logged once until the index shrinks
}

// The kinds of revocation, each matched against one claim.
const (
	kindSession   = iota // sid
	kindSubject          // sub, with the times in the entry
	kindTokenID          // jti
	kindToken            // SHA-256 of the token, as raw bytes
	kindAssurance        // sub, whose acr counts as no more than the entry's
	numKinds
)

type revocationKey struct {
	kind  uint8
	value string
}

// dated reports whether k's entry holds for the tokens issued up to a time.
func (k revocationKey) dated() bool { return k.kind == kindSubject || k.kind == kindAssurance }

// revocationEntry is what is known of one key. Times are Unix nanoseconds;
// for kindSubject, before and beforeUnbound are 0 when not set.
type revocationEntry struct {
	expires int64
	// before: tokens issued at or before it are revoked.
	before int64
	// beforeUnbound: tokens without sid issued at or before it are
	// revoked (the fallback of a logout token that names a session).
	beforeUnbound int64
	// acr, for kindAssurance: the authentication context the tokens
	// issued at or before before count as having at most.
	acr string
}

type queuedKey struct {
	key     revocationKey
	expires int64
}

// maxRevocations bounds the index: about 150 bytes an entry, so 150 MB at
// most. Entries expire long before that on any ordinary traffic.
const maxRevocations = 1 << 20

func newRevocationIndex(log *slog.Logger, max int) *revocationIndex {
	x := &revocationIndex{max: max, log: log, entries: make(map[revocationKey]revocationEntry)}
	for i := range x.seeds {
		x.seeds[i] = maphash.MakeSeed()
	}
	x.filter.Store(newRevocationFilter(0))
	return x
}

// revoked reports whether c (the claims of token) is revoked. now is
// called only for a token the filter does not clear: time.Now would cost
// a request more than the rest of the check.
func (x *revocationIndex) revoked(c *Claims, token string, now func() time.Time) bool {
	kinds := x.kinds.Load()
	if kinds == 0 {
		return false
	}
	f := x.filter.Load()
	// The token is hashed only while some token is revoked as such.
	var h [32]byte
	hashed := kinds&(1<<kindToken) != 0
	if hashed {
		h = tokenHash(token)
	}
	maybe := kinds&(1<<kindSession) != 0 && c.SessionID != "" && f.has(x.hash(kindSession, c.SessionID)) ||
		kinds&(1<<kindSubject) != 0 && c.Subject != "" && f.has(x.hash(kindSubject, c.Subject)) ||
		kinds&(1<<kindTokenID) != 0 && c.ID != "" && f.has(x.hash(kindTokenID, c.ID)) ||
		hashed && f.has(x.hash(kindToken, string(h[:])))
	return maybe && x.confirm(c, h, hashed, now().UnixNano())
}

// confirm looks at the entries for c's values and, if hashed, h's.
func (x *revocationIndex) confirm(c *Claims, h [32]byte, hashed bool, now int64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	live := func(kind uint8, value string) (revocationEntry, bool) {
		if value == "" {
			return revocationEntry{}, false
		}
		e, ok := x.entries[revocationKey{kind, value}]
		return e, ok && now < e.expires
	}
	if _, ok := live(kindSession, c.SessionID); ok {
		return true
	}
	if e, ok := live(kindSubject, c.Subject); ok {
		// A token that does not say when it was issued cannot show it
		// came after the revocation: it is revoked with the others.
		iat := int64(0)
		if !c.IssuedAt.IsZero() {
			iat = c.IssuedAt.UnixNano()
		}
		if e.before != 0 && iat <= e.before || c.SessionID == "" && e.beforeUnbound != 0 && iat <= e.beforeUnbound {
			return true
		}
	}
	if _, ok := live(kindTokenID, c.ID); ok {
		return true
	}
	if hashed {
		if _, ok := live(kindToken, string(h[:])); ok {
			return true
		}
	}
	return false
}

// assuranceChanged reports whether x holds a user's lowered assurance
// (kindAssurance): one atomic load, all a request pays while none does. x
// may be nil.
func (x *revocationIndex) assuranceChanged() bool {
	return x != nil && x.kinds.Load()&(1<<kindAssurance) != 0
}

// assurance returns the authentication context c counts as having at
// most, when an assurance change of its subject (kindAssurance) holds for
// it.
func (x *revocationIndex) assurance(c *Claims, now func() time.Time) (string, bool) {
	if c.Subject == "" || !x.filter.Load().has(x.hash(kindAssurance, c.Subject)) {
		return "", false
	}
	t := now().UnixNano()
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.entries[revocationKey{kindAssurance, c.Subject}]
	if !ok || t >= e.expires {
		return "", false
	}
	// Without iat, a token cannot show it was issued after the change.
	if !c.IssuedAt.IsZero() && c.IssuedAt.UnixNano() > e.before {
		return "", false
	}
	return e.acr, true
}

// add records a revocation, or widens the one for the same key, and lets
// go of entries that expired.
func (x *revocationIndex) add(key revocationKey, e revocationEntry, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.expire(now.UnixNano())
	old, ok := x.entries[key]
	if ok {
		if key.kind == kindAssurance && (old.before > e.before || old.before == e.before && old.acr < e.acr) {
			// The latest change holds; of two at once, the same one on
			// every replica whatever the order they arrive in.
			e.acr = old.acr
		}
		e.expires = max(e.expires, old.expires)
		e.before = max(e.before, old.before)
		e.beforeUnbound = max(e.beforeUnbound, old.beforeUnbound)
		// Its place in the queue stays; expire looks at the entry's time.
		x.entries[key] = e
		return
	}
	if len(x.entries) >= x.max {
		if !x.full {
			x.log.Error("bearer: too many revocations; the oldest are forgotten before they expire", "max", x.max)
			x.full = true
		}
		x.drop(x.queue[x.head].key)
		x.head++
	}
	x.entries[key] = e
	x.counts[key.kind]++
	x.queue = append(x.queue, queuedKey{key, e.expires})
	f := x.filter.Load()
	if len(x.entries) > f.capacity() || x.stale > len(x.entries) {
		x.rebuild()
	} else {
		f.add(x.hash(key.kind, key.value))
	}
	// After the filter holds the value: a reader that sees the kind finds
	// the value in the filter.
	x.kinds.Store(x.kindBits())
}

// expire drops the entries at the front of the queue that have expired.
// The queue is in the order entries were added, not quite the order they
// expire; an entry expired behind a live one is ignored by confirm until
// its turn comes.
func (x *revocationIndex) expire(now int64) {
	dropped := false
	for x.head < len(x.queue) && x.queue[x.head].expires <= now {
		q := x.queue[x.head]
		x.head++
		if e, ok := x.entries[q.key]; ok && e.expires > q.expires {
			// Widened since: back in the queue with its new time.
			x.queue = append(x.queue, queuedKey{q.key, e.expires})
			continue
		}
		x.drop(q.key)
		dropped = true
	}
	if x.head > len(x.queue)/2 {
		x.queue = append(x.queue[:0], x.queue[x.head:]...)
		x.head = 0
	}
	if !dropped {
		return
	}
	if len(x.entries) < x.max/2 {
		x.full = false
	}
	if x.stale > len(x.entries) {
		x.rebuild()
	}
	x.kinds.Store(x.kindBits())
}

func (x *revocationIndex) drop(key revocationKey) {
	if _, ok := x.entries[key]; ok {
		delete(x.entries, key)
		x.counts[key.kind]--
		x.stale++
	}
}

// rebuild makes a filter sized for the entries there are, without the
// bits of those that are gone.
func (x *revocationIndex) rebuild() {
	f := newRevocationFilter(len(x.entries))
	for k := range x.entries {
		f.add(x.hash(k.kind, k.value))
	}
	x.filter.Store(f)
	x.stale = 0
}

func (x *revocationIndex) kindBits() uint32 {
	var b uint32
	for i, n := range x.counts {
		if n > 0 {
			b |= 1 << i
		}
	}
	return b
}

// live drops the entries expired by now, as far as expire can, and
// returns how many are left.
func (x *revocationIndex) live(now time.Time) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.expire(now.UnixNano())
	return len(x.entries)
}

// len returns the number of entries, expired ones not yet dropped included.
func (x *revocationIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.entries)
}

func (x *revocationIndex) hash(kind uint8, value string) uint64 {
	return maphash.String(x.seeds[kind], value)
}

// revocationFilter is a Bloom filter of 2 bits per value, with 16 bits per
// entry it was sized for: about 1.4% of the values not in it look as if
// they were.
type revocationFilter struct {
	bits []atomic.Uint64
	mask uint64 // bit count - 1
}

const filterBitsPerEntry = 16

func newRevocationFilter(entries int) *revocationFilter {
	// Room for twice as many entries, so that a growing index rebuilds
	// seldom; at least 1024 entries (2 KiB).
	n := uint64(max(entries*2, 1024) * filterBitsPerEntry)
	n = 1 << bits.Len64(n-1)
	return &revocationFilter{bits: make([]atomic.Uint64, n/64), mask: n - 1}
}

func (f *revocationFilter) capacity() int { return int((f.mask + 1) / filterBitsPerEntry) }

func (f *revocationFilter) add(h uint64) {
	for _, i := range [2]uint64{h & f.mask, (h >> 32) & f.mask} {
		f.bits[i/64].Or(1 << (i % 64))
	}
}

func (f *revocationFilter) has(h uint64) bool {
	i, j := h&f.mask, (h>>32)&f.mask
	return f.bits[i/64].Load()&(1<<(i%64)) != 0 && f.bits[j/64].Load()&(1<<(j%64)) != 0
}
