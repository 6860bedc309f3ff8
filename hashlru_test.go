package bearer

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lruNow is the time of the adds: before every lruToken's expiry, so
// that none is dropped as dead.
var lruNow time.Time

func lruKey(n int) string { return "token-" + strconv.Itoa(n) }

func lruToken(n int) cachedToken {
	return cachedToken{claims: &Claims{Subject: string(rune('a' + n%26))}, expires: time.Unix(int64(n), 0)}
}

// TestHashLRUEvictsLeastRecentlyUsed: a hit makes an entry the most recent,
// so the entry that goes when the cache is full is the one used longest ago.
func TestHashLRUEvictsLeastRecentlyUsed(t *testing.T) {
	l := newHashLRU(3)
	for n := range 3 {
		l.add(lruKey(n), lruToken(n), lruNow)
	}
	if _, ok := l.get(lruKey(0)); !ok {
		t.Fatal("entry 0 missing before the cache overflowed")
	}
	l.add(lruKey(3), lruToken(3), lruNow)
	if _, ok := l.get(lruKey(1)); ok {
		t.Error("entry 1, the least recently used, is still cached")
	}
	for _, n := range []int{0, 2, 3} {
		if got, ok := l.get(lruKey(n)); !ok || got.expires != lruToken(n).expires {
			t.Errorf("entry %d: %v, %v", n, got.expires, ok)
		}
	}
	if l.len() != 3 {
		t.Errorf("len %d, want 3", l.len())
	}
}

// TestHashLRUReplaces: adding a cached hash again replaces its entry
// without taking a second slot.
func TestHashLRUReplaces(t *testing.T) {
	l := newHashLRU(2)
	l.add(lruKey(1), lruToken(1), lruNow)
	l.add(lruKey(2), lruToken(2), lruNow)
	l.add(lruKey(1), lruToken(7), lruNow)
	if got, ok := l.get(lruKey(1)); !ok || got.expires != lruToken(7).expires {
		t.Errorf("entry 1 after a second add: %v, %v", got.expires, ok)
	}
	if _, ok := l.get(lruKey(2)); !ok || l.len() != 2 {
		t.Errorf("entry 2 lost to a replacement: len %d", l.len())
	}
}

// TestHashLRURemoveGivesBackTheSlot: a removed entry lets go of its claims
// at once, and its slot serves the next token without evicting another.
func TestHashLRURemoveGivesBackTheSlot(t *testing.T) {
	l := newHashLRU(2)
	l.add(lruKey(1), lruToken(1), lruNow)
	l.add(lruKey(2), lruToken(2), lruNow)
	i := l.index[l.hash(lruKey(1))]
	l.remove(lruKey(1))
	l.remove(lruKey(9)) // not cached: nothing happens
	if l.slots[i].entry.claims != nil || l.slots[i].token != "" {
		t.Error("a removed entry still holds its token or claims")
	}
	l.add(lruKey(3), lruToken(3), lruNow)
	if _, ok := l.get(lruKey(2)); !ok {
		t.Error("adding into a freed slot evicted entry 2")
	}
	if len(l.slots) != 3 || l.len() != 2 {
		t.Errorf("%d slots and %d entries, want 3 and 2", len(l.slots), l.len())
	}

	l.removeOldest() // entry 3: entry 2 was just used
	if _, ok := l.get(lruKey(3)); ok || l.len() != 1 {
		t.Errorf("removeOldest kept entry 3: len %d", l.len())
	}
	l.removeOldest()
	l.removeOldest() // empty: nothing happens
	if l.len() != 0 {
		t.Errorf("len %d after emptying", l.len())
	}
	l.add(lruKey(4), lruToken(4), lruNow)
	if _, ok := l.get(lruKey(4)); !ok || l.len() != 1 {
		t.Error("an emptied cache does not take entries again")
	}
}

// TestHashLRUMatchesAModel runs random operations against a plain slice
// that is a least-recently-used list by construction.
func TestHashLRUMatchesAModel(t *testing.T) {
	const capacity = 5
	l := newHashLRU(capacity)
	var model []int // most recent first
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		n := rng.IntN(12)
		at := slices.Index(model, n)
		switch op := rng.IntN(10); {
		case op < 5:
			got, ok := l.get(lruKey(n))
			if ok != (at >= 0) || ok && got.expires != lruToken(n).expires {
				t.Fatalf("step %d: get(%d) = %v, %v, model %v", step, n, got.expires, ok, model)
			}
			if ok {
				model = slices.Insert(slices.Delete(model, at, at+1), 0, n)
			}
		case op < 8:
			l.add(lruKey(n), lruToken(n), lruNow)
			if at >= 0 {
				model = slices.Delete(model, at, at+1)
			}
			model = slices.Insert(model, 0, n)
			if len(model) > capacity {
				model = model[:capacity]
			}
		case op < 9:
			l.remove(lruKey(n))
			if at >= 0 {
				model = slices.Delete(model, at, at+1)
			}
		default:
			l.removeOldest()
			if len(model) > 0 {
				model = model[:len(model)-1]
			}
		}
		if got := order(l); !slices.Equal(got, model) {
			t.Fatalf("step %d: order %v, model %v", step, got, model)
		}
		if l.len() != len(model) {
			t.Fatalf("step %d: len %d, model %v", step, l.len(), model)
		}
	}
	if len(l.slots) > capacity+1 {
		t.Errorf("%d slots for a capacity of %d", len(l.slots), capacity)
	}
}

// order walks l from the most recent entry, reading each entry's number
// back from its token.
func order(l *hashLRU) []int {
	var ns []int
	for i := l.slots[0].next; i != 0; i = l.slots[i].next {
		n, _ := strconv.Atoi(strings.TrimPrefix(l.slots[i].token, "token-"))
		ns = append(ns, n)
	}
	return ns
}

// TestHashLRUServesOnlyTheSameToken: the index hash only finds a slot; an
// entry serves the very token it was made for, so another token that
// shared its hash (made to here by pointing its hash at the slot) is a
// miss, and cannot remove the entry either.
func TestHashLRUServesOnlyTheSameToken(t *testing.T) {
	l := newHashLRU(2)
	l.add(lruKey(1), lruToken(1), lruNow)
	other := lruKey(1) + "x"
	l.index[l.hash(other)] = l.index[l.hash(lruKey(1))]
	if _, ok := l.get(other); ok {
		t.Fatal("a token sharing a slot with a cached token was served its claims")
	}
	l.remove(other)
	if _, ok := l.get(lruKey(1)); !ok {
		t.Error("removing another token dropped the cached one")
	}
}

// TestHashLRUTokensSharingTheirTail: the index hashes a token's last
// hashTail bytes only, so tokens that differ before them share a key; each
// is still served only its own entry, and a cached one is never answered
// for the other.
func TestHashLRUTokensSharingTheirTail(t *testing.T) {
	tail := strings.Repeat("s", hashTail)
	a, b := "header.payload-a."+tail, "header.payload-b."+tail
	l := newHashLRU(4)
	if l.hash(a) != l.hash(b) {
		t.Fatal("tokens with the same last bytes have different keys: the test needs them alike")
	}
	l.add(a, lruToken(1), lruNow)
	if _, ok := l.get(b); ok {
		t.Fatal("a token sharing its tail with a cached token was served its claims")
	}
	l.remove(b)
	if got, ok := l.get(a); !ok || got.expires != lruToken(1).expires {
		t.Fatal("a token sharing its tail removed the cached one")
	}
	l.add(b, lruToken(2), lruNow)
	if got, ok := l.get(b); !ok || got.expires != lruToken(2).expires {
		t.Fatalf("b: %v, %v", got.expires, ok)
	}
	if _, ok := l.get(a); ok {
		t.Fatal("a is served b's entry")
	}
	short := "a.b.c"
	l.add(short, lruToken(3), lruNow)
	if got, ok := l.get(short); !ok || got.expires != lruToken(3).expires {
		t.Fatalf("a token shorter than hashTail: %v, %v", got.expires, ok)
	}
}

// TestHashLRUAddDropsDeadTail: an add first lets go of the least recent
// entries while they are dead at its time (expired, or of a retired key),
// two at most, and never a live one.
func TestHashLRUAddDropsDeadTail(t *testing.T) {
	l := newHashLRU(10)
	retired := &publicKey{}
	retired.retired.Store(true)
	dead := cachedToken{claims: &Claims{}, expires: time.Unix(10, 0)}
	l.add(lruKey(0), dead, lruNow)                                                                    // expired at time 10
	l.add(lruKey(1), cachedToken{claims: &Claims{}, key: retired, expires: time.Unix(99, 0)}, lruNow) // retired
	l.add(lruKey(2), dead, lruNow)
	l.add(lruKey(3), cachedToken{claims: &Claims{}, expires: time.Unix(99, 0)}, lruNow) // live
	l.add(lruKey(4), dead, lruNow)
	live := cachedToken{claims: &Claims{}, expires: time.Unix(99, 0)}
	l.add(lruKey(5), live, time.Unix(20, 0)) // drops 0 and 1
	if l.len() != 4 {
		t.Fatalf("len %d after the first add at time 20, want 4: entries 0 and 1 gone", l.len())
	}
	l.add(lruKey(6), live, time.Unix(20, 0)) // drops 2, stops at 3
	for n, want := range []bool{false, false, false, true, true, true, true} {
		if _, ok := l.get(lruKey(n)); ok != want {
			t.Errorf("entry %d cached: %v, want %v", n, ok, want)
		}
	}
}
