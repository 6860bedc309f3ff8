package bearer_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// heldStore holds revocations made before any Validator started, and
// replays them to a subscriber only once release is closed: a store slow
// to answer, or down, when a replica starts.
type heldStore struct {
	revocations []bearer.Revocation
	release     chan struct{}
}

func newHeldStore(rs ...bearer.Revocation) *heldStore {
	return &heldStore{revocations: rs, release: make(chan struct{})}
}

func (*heldStore) Revoke(context.Context, bearer.Revocation) error { return nil }

func (s *heldStore) Subscribe(ctx context.Context, deliver func(bearer.Revocation), synced func()) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, r := range s.revocations {
		deliver(r)
	}
	synced()
	<-ctx.Done()
	return ctx.Err()
}

func (*heldStore) FirstSeen(context.Context, string, time.Time) (bool, error) { return true, nil }

// waitStatus waits until v's Status meets cond.
func waitStatus(t *testing.T, v *bearer.Validator, cond func(bearer.Status) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(v.Status()) {
		if time.Now().After(deadline) {
			t.Fatalf("Status %+v: not as expected within 10 s", v.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReadyWaitsForStoreRevocations: a replica started on a store that
// holds a revocation, and is slow to replay it, is not Ready before it
// holds it: the revoked token is refused on the first request.
func TestReadyWaitsForStoreRevocations(t *testing.T) {
	a := bearertest.New(t)
	store := newHeldStore(bearer.Revocation{SessionID: "s-1", Expires: time.Now().Add(time.Hour)})
	time.AfterFunc(300*time.Millisecond, func() { close(store.release) })
	v := newValidator(t, a, bearer.Config{RevocationStore: store})
	if st := v.Status(); !st.RevocationsSynced || st.Revocations != 1 {
		t.Errorf("Status after Ready: %+v, want in sync with 1 revocation", st)
	}
	mustFail(t, v, a.Token(claims(bearertest.Payload{"sid": "s-1"})), bearer.ErrInvalidToken, bearer.ErrRevoked)
}

// TestRevocationSyncTimeout: by default a replica whose store does not
// answer serves after RevocationSyncTimeout with what it holds, says so
// in Status, and enforces the store's revocations once they arrive.
func TestRevocationSyncTimeout(t *testing.T) {
	a := bearertest.New(t)
	store := newHeldStore(bearer.Revocation{SessionID: "s-1", Expires: time.Now().Add(time.Hour)})
	v := newValidator(t, a, bearer.Config{RevocationStore: store, RevocationSyncTimeout: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if v.Status().RevocationsSynced {
		t.Error("Status says in sync before the store answered")
	}
	tok := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	mustValid(t, v, tok) // the availability this default chooses

	close(store.release)
	waitStatus(t, v, func(st bearer.Status) bool { return st.RevocationsSynced })
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrRevoked)

	if st := newValidator(t, a, bearer.Config{}).Status(); !st.RevocationsSynced {
		t.Error("a Validator without a RevocationStore is not in sync")
	}
}

// TestRequireRevocationSync: failing closed, a replica refuses every
// token that would be accepted with 503 and Retry-After until its store
// has delivered the revocations in force, and Ready waits for them; a bad
// token is still a 401.
func TestRequireRevocationSync(t *testing.T) {
	a := bearertest.New(t)
	store := newHeldStore(bearer.Revocation{SessionID: "s-1", Expires: time.Now().Add(time.Hour)})
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"},
		RevocationStore: store, RequireRevocationSync: true, RevocationSyncTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	waitStatus(t, v, func(st bearer.Status) bool { return st.Ready }) // the keys are fetched

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := v.Ready(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ready before the store answered: %v, want the context's error", err)
	}
	tok := a.Token(claims(bearertest.Payload{"sid": "s-2"}))
	e := mustFail(t, v, tok, bearer.ErrUnavailable, nil)
	if e.Status != http.StatusServiceUnavailable || e.RetryAfter < time.Second {
		t.Errorf("refused with %d, Retry-After %v: want 503 and a Retry-After", e.Status, e.RetryAfter)
	}
	mustFail(t, v, tok[:len(tok)-4]+"AAAA", bearer.ErrInvalidToken, nil)

	close(store.release)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready once the store answered: %v", err)
	}
	mustValid(t, v, tok)
	mustFail(t, v, a.Token(claims(bearertest.Payload{"sid": "s-1"})), bearer.ErrInvalidToken, bearer.ErrRevoked)
}

// TestMultiRevocationSync: several authorities share one store, and so
// one sync: Ready waits for it, Status says it, RequireRevocationSync
// refuses every authority's tokens with 503 until it, and an authority's
// Config may not set it apart.
func TestMultiRevocationSync(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	authorities := []bearer.Config{{Authority: a.Issuer(), Audience: []string{"api"}}, {Authority: b.Issuer(), Audience: []string{"api"}}}
	store := newHeldStore(bearer.Revocation{Issuer: a.Issuer(), SessionID: "s-1", Expires: time.Now().Add(time.Hour)})
	v, err := bearer.NewMulti(context.Background(), bearer.MultiConfig{Authorities: authorities, RevocationStore: store, RequireRevocationSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	waitStatus(t, v, func(st bearer.Status) bool { return st.Ready })
	if v.Status().RevocationsSynced {
		t.Error("in sync before the store answered")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := v.Ready(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ready before the store answered: %v, want the context's error", err)
	}
	fromB := b.Token(claims(nil))
	mustFail(t, v, fromB, bearer.ErrUnavailable, nil)

	close(store.release)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready once the store answered: %v", err)
	}
	mustValid(t, v, fromB)
	mustFail(t, v, a.Token(claims(bearertest.Payload{"sid": "s-1"})), bearer.ErrInvalidToken, bearer.ErrRevoked)

	authorities[1].RequireRevocationSync = true
	if v, err := bearer.NewMulti(context.Background(), bearer.MultiConfig{Authorities: authorities}); err == nil {
		v.Close()
		t.Error("NewMulti accepted an authority's own RequireRevocationSync")
	}
}
