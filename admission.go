package bearer

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// admission decides which validated tokens the cache keeps.
//
// While the cache pays, it keeps every token. It stops paying when almost
// every token is used once: each new entry then pushes out one that is
// never asked for again, and the garbage collector walks a full cache of
// dead entries at every cycle, which costs more than the cache saves. So
// when a round of lookups sees fewer than one hit per admissionHitRatio
// misses, the cache turns choosy: it keeps a token only on its second
// sight, and each token it turns away gives back the least recently used
// entry, so that the cache empties under one-use traffic. A round with
// hits again makes it keep every token once more.
type admission struct {
	mask   uint64 // a round is mask+1 hits or misses
	choosy atomic.Bool
	// lastHits and lastMisses are the counters at the last judgement.
	lastHits, lastMisses atomic.Uint64
	// seen holds a fingerprint of each token recently turned away, one
	// slot per token hash: no pointers, so the collector never walks it.
	// It is made when the cache first turns choosy, which most never do.
	seen     []atomic.Uint64
	seenOnce sync.Once
}

// admissionHitRatio is how many misses per hit make the cache choosy. A
// hit saves a signature check (tens of microseconds for RSA and ECDSA); an
// entry that is never hit costs about a microsecond of inserting and
// collecting, so the cache is worth filling down to a few hits in a hundred.
const admissionHitRatio = 16

// maxSeen bounds the fingerprint table to 8 MiB: a token coming back after
// a million others were turned away is as good as new.
const maxSeen = 1 << 20

// newAdmission judges rounds of the power of two ≥ size, a round in which
// a full cache can turn over once.
func newAdmission(size int) admission {
	return admission{mask: uint64(1)<<bits.Len64(uint64(size-1)) - 1}
}

// roundEnds reports whether a hit or miss count of n ends a round.
func (a *admission) roundEnds(n uint64) bool { return n&a.mask == 0 }

// judge decides from the cache's hit and miss counters whether the round
// that just ended makes the cache choosy.
func (a *admission) judge(hits, misses uint64) {
	dh, dm := hits-a.lastHits.Swap(hits), misses-a.lastMisses.Swap(misses)
	choosy := dh*admissionHitRatio < dm
	if choosy {
		// Before choosy is stored: admit reads seen only once it loads true.
		a.seenOnce.Do(func() { a.seen = make([]atomic.Uint64, min(a.mask+1, maxSeen)) })
	}
	a.choosy.Store(choosy)
}

// admit reports whether a token just validated, whose cache index hash is
// h, should be cached.
func (a *admission) admit(h uint64) bool {
	if !a.choosy.Load() {
		return true
	}
	slot := &a.seen[h%uint64(len(a.seen))]
	fingerprint := h | 1 // never an empty slot's 0
	if slot.Load() == fingerprint {
		return true
	}
	slot.Store(fingerprint)
	return false
}
