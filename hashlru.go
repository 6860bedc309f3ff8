package bearer

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"time"
)

// hashLRU maps tokens to cached tokens and lets the least recently
// used go first when it is full. It does what golang-lru does for the
// introspection cache, laid out for a cache that holds thousands of live
// tokens: the entries sit in one slice and link to each other by index,
// and the index map holds no pointers. The garbage collector then scans
// one array instead of an object per entry, and a hit reads a few dense
// cache lines instead of an entry and its two neighbours scattered over
// the heap.
//
// A token is found by a keyed hash of its last bytes (maphash, seeded per
// cache) and then compared, byte for byte, with the token the entry
// keeps. So an entry serves only the very token it was made for, whatever
// the hash does, and the seed only keeps an attacker from crowding one
// bucket of the index. The cache holds JWTs that passed validation, whose
// last bytes are their signature's: no two such tokens share them, so the
// rest of the token would only make the hash longer to compute (SHA-256
// of a whole token took ten times as long as the hit does now).
type hashLRU struct {
	seed     maphash.Seed
	mu       sync.Mutex
	index    map[uint64]int32
	slots    []lruSlot // slots[0] is the list's root; it grows to capacity+1
	capacity int
	free     int32 // a slot given back by remove, chained by next; 0 if none
}

// lruSlot is an entry, or the root: root.next is the most recently used
// entry, root.prev the least.
type lruSlot struct {
	hash       uint64
	token      string // the token itself, for the exact comparison
	prev, next int32
	entry      cachedToken
}

func newHashLRU(capacity int) *hashLRU {
	// Slots are numbered with int32: two billion tokens would take
	// terabytes of heap, so the bound is never met in practice.
	capacity = min(max(capacity, 1), math.MaxInt32-1)
	return &hashLRU{
		seed:     maphash.MakeSeed(),
		index:    make(map[uint64]int32),
		slots:    make([]lruSlot, 1, 1+min(capacity, 1024)),
		capacity: capacity,
	}
}

// hashTail is how many of a token's last bytes its index key is the hash
// of: at least the whole signature of HS256, the shortest there is (43
// bytes in base64url).
const hashTail = 64

// hash is the index key of token.
func (l *hashLRU) hash(token string) uint64 {
	return maphash.String(l.seed, token[max(len(token)-hashTail, 0):])
}

// get returns what is cached for token and makes it the most recent.
func (l *hashLRU) get(token string) (cachedToken, bool) {
	h := l.hash(token)
	l.mu.Lock()
	defer l.mu.Unlock()
	i, ok := l.index[h]
	if !ok || l.slots[i].token != token {
		return cachedToken{}, false
	}
	// The most recent already (one client's token, hit after hit) stays
	// where it is, and its neighbours' links are not written.
	if l.slots[0].next != i {
		l.unlink(i)
		l.pushFront(i)
	}
	return l.slots[i].entry, true
}

// add caches t for token as the most recent entry, replacing what was
// cached under its hash and making room by letting the least recent go.
// It first drops the least recent entries while they are dead at now
// (expired, or of a retired key), two at most: a token is presented again
// within its entry's life or never, so without this the cache would hold
// capacity entries, most of them dead, until the LRU pushed them out
// (the soak's replicas grew by 10 MB that way). Two per insert drain the
// dead faster than they come, and the hit path is not touched.
func (l *hashLRU) add(token string, t cachedToken, now time.Time) {
	h := l.hash(token)
	// A copy: token may be a slice of a larger buffer the cache must not
	// keep alive.
	token = strings.Clone(token)
	l.mu.Lock()
	defer l.mu.Unlock()
	for range 2 {
		i := l.slots[0].prev
		if i == 0 || l.slots[i].entry.live(now) {
			break
		}
		l.drop(i)
	}
	i, ok := l.index[h]
	if ok {
		l.unlink(i)
	} else {
		if len(l.index) == l.capacity {
			l.drop(l.slots[0].prev) // the least recent, whose slot is then free
		}
		if i = l.free; i != 0 {
			l.free = l.slots[i].next
		} else {
			i = int32(len(l.slots))
			l.slots = append(l.slots, lruSlot{})
		}
	}
	l.slots[i].hash, l.slots[i].token, l.slots[i].entry = h, token, t
	l.index[h] = i
	l.pushFront(i)
}

// remove drops the entry for token, if any.
func (l *hashLRU) remove(token string) {
	h := l.hash(token)
	l.mu.Lock()
	defer l.mu.Unlock()
	if i, ok := l.index[h]; ok && l.slots[i].token == token {
		l.drop(i)
	}
}

// removeOldest drops the least recently used entry, if any.
func (l *hashLRU) removeOldest() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := l.slots[0].prev; i != 0 {
		l.drop(i)
	}
}

// len returns the number of entries.
func (l *hashLRU) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.index)
}

// drop unlinks slot i and gives it back, letting go of its token and
// claims at once.
func (l *hashLRU) drop(i int32) {
	l.unlink(i)
	delete(l.index, l.slots[i].hash)
	l.slots[i] = lruSlot{next: l.free}
	l.free = i
}

func (l *hashLRU) unlink(i int32) {
	s := &l.slots[i]
	l.slots[s.prev].next = s.next
	l.slots[s.next].prev = s.prev
}

func (l *hashLRU) pushFront(i int32) {
	root := &l.slots[0]
	s := &l.slots[i]
	s.prev, s.next = 0, root.next
	l.slots[root.next].prev = i
	root.next = i
}
