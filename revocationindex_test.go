package bearer

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// at is a clock stopped at t.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

func sessionEntry(expires time.Time) revocationEntry {
	return revocationEntry{expires: expires.UnixNano()}
}

// TestRevocationIndexExpires: an entry holds until it expires, then is let
// go, and an index with nothing left costs requests one load again.
func TestRevocationIndexExpires(t *testing.T) {
	x := newRevocationIndex(slog.New(slog.DiscardHandler), maxRevocations)
	t0 := time.Now()
	c := &Claims{SessionID: "s-1"}
	x.add(revocationKey{kindSession, "s-1"}, sessionEntry(t0.Add(time.Minute)), t0)
	if !x.revoked(c, "", at(t0)) || !x.revoked(c, "", at(t0.Add(time.Minute-time.Nanosecond))) {
		t.Error("not revoked before it expires")
	}
	if x.revoked(c, "", at(t0.Add(time.Minute))) {
		t.Error("revoked once expired")
	}
	// The next write lets it go.
	x.add(revocationKey{kindTokenID, "j-1"}, sessionEntry(t0.Add(3*time.Minute)), t0.Add(2*time.Minute))
	if n := x.len(); n != 1 {
		t.Errorf("%d entries, want 1", n)
	}
	x.add(revocationKey{kindTokenID, "j-2"}, sessionEntry(t0.Add(5*time.Minute)), t0.Add(4*time.Minute))
	x.add(revocationKey{kindTokenID, "j-3"}, sessionEntry(t0.Add(7*time.Minute)), t0.Add(6*time.Minute))
	x.mu.Lock()
	x.expire(t0.Add(8 * time.Minute).UnixNano())
	x.mu.Unlock()
	if n, kinds := x.len(), x.kinds.Load(); n != 0 || kinds != 0 {
		t.Errorf("%d entries, kinds %b; want none", n, kinds)
	}
}

// TestRevocationIndexWidens: a second revocation of the same subject keeps
// the later time and expiry of the two, and its own kind of time.
func TestRevocationIndexWidens(t *testing.T) {
	x := newRevocationIndex(slog.New(slog.DiscardHandler), maxRevocations)
	t0 := time.Now()
	key := revocationKey{kindSubject, "alice"}
	x.add(key, revocationEntry{expires: t0.Add(time.Hour).UnixNano(), beforeUnbound: t0.UnixNano()}, t0)
	x.add(key, revocationEntry{expires: t0.Add(time.Minute).UnixNano(), before: t0.Add(-time.Minute).UnixNano()}, t0)
	issued := func(d time.Duration, sid string) *Claims {
		return &Claims{Subject: "alice", SessionID: sid, IssuedAt: t0.Add(d)}
	}
	for _, tc := range []struct {
		c    *Claims
		when time.Duration
		want bool
	}{
		{issued(-2*time.Minute, "s"), 0, true},             // before, any token
		{issued(-time.Second, "s"), 0, false},              // after before, has a sid
		{issued(-time.Second, ""), 0, true},                // before beforeUnbound, no sid
		{issued(time.Second, ""), 0, false},                // after both
		{issued(-time.Second, ""), 30 * time.Minute, true}, // the longer expiry kept
		{&Claims{Subject: "alice"}, 0, true},               // no iat
	} {
		if got := x.revoked(tc.c, "", at(t0.Add(tc.when))); got != tc.want {
			t.Errorf("iat %v sid %q at +%v: revoked %v, want %v", tc.c.IssuedAt.Sub(t0), tc.c.SessionID, tc.when, got, tc.want)
		}
	}
}

// TestRevocationIndexBound: a full index forgets its oldest entries first,
// and says so once.
func TestRevocationIndexBound(t *testing.T) {
	var logs bytes.Buffer
	x := newRevocationIndex(slog.New(slog.NewTextHandler(&logs, nil)), 4)
	now := time.Now()
	for i := range 6 {
		x.add(revocationKey{kindSession, fmt.Sprint(i)}, sessionEntry(now.Add(time.Hour)), now)
	}
	if n := x.len(); n != 4 {
		t.Errorf("%d entries, want 4", n)
	}
	for i := range 6 {
		if got, want := x.revoked(&Claims{SessionID: fmt.Sprint(i)}, "", at(now)), i >= 2; got != want {
			t.Errorf("session %d: revoked %v, want %v", i, got, want)
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged, want 1:\n%s", n, logs.String())
	}
}

// TestRevocationIndexFilter: the filter never hides an entry, however
// many there are and however often it is rebuilt, and a token is hashed
// for the check only while tokens are revoked as such.
func TestRevocationIndexFilter(t *testing.T) {
	x := newRevocationIndex(slog.New(slog.DiscardHandler), maxRevocations)
	now := time.Now()
	const n = 20000
	for i := range n {
		x.add(revocationKey{uint8(i % 3), fmt.Sprint("v", i)}, sessionEntry(now.Add(time.Hour)), now)
	}
	for i := range n {
		v := fmt.Sprint("v", i)
		c := [3]*Claims{{SessionID: v}, {Subject: v}, {ID: v}}[i%3]
		if i%3 == kindSubject {
			x.add(revocationKey{kindSubject, v}, revocationEntry{expires: now.Add(time.Hour).UnixNano(), before: now.UnixNano()}, now)
		}
		if !x.revoked(c, "", at(now)) {
			t.Fatalf("entry %d not found", i)
		}
	}
	if x.revoked(&Claims{SessionID: "v1", Subject: "v2", ID: "v0"}, "", at(now)) {
		t.Error("values of other kinds matched")
	}
	if x.kinds.Load()&(1<<kindToken) != 0 {
		t.Error("a token kind without tokens revoked")
	}
	h := tokenHash("a.b.c")
	x.add(revocationKey{kindToken, string(h[:])}, sessionEntry(now.Add(time.Hour)), now)
	if !x.revoked(&Claims{}, "a.b.c", at(now)) || x.revoked(&Claims{}, "a.b.d", at(now)) {
		t.Error("token revocation")
	}
}

// BenchmarkRevocationIndex is the check alone, for a token that carries a
// sid, a sub and a jti and matches nothing: what a request pays on top of
// its validation, with no revocation and with 10 000 (5 000 logouts).
func BenchmarkRevocationIndex(b *testing.B) {
	c := &Claims{SessionID: "the-benchmark-session", Subject: "248289761001", ID: "8ZEjv6uqrv", IssuedAt: time.Now()}
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprintf("revocations=%d", n), func(b *testing.B) {
			x := newRevocationIndex(slog.New(slog.DiscardHandler), maxRevocations)
			now := time.Now()
			for i := range n / 2 {
				e := revocationEntry{expires: now.Add(time.Hour).UnixNano(), beforeUnbound: now.UnixNano()}
				x.add(revocationKey{kindSession, fmt.Sprint("session-", i)}, e, now)
				x.add(revocationKey{kindSubject, fmt.Sprint("user-", i)}, e, now)
			}
			for b.Loop() {
				if x.revoked(c, "", at(now)) {
					b.Fatal("revoked")
				}
			}
		})
	}
}
