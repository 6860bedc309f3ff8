package bearer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// TestIssue26_5_ReplayMemoryNeverForgets: the default memory of ids seen
// (DPoP proofs, logout tokens) never forgets one before it expires: full
// of unexpired ids, it refuses to record another, with the time until the
// first expires, rather than make room by forgetting one, which would let
// a captured proof replay after the client sent 65 536 proofs of its own.
func TestIssue26_5_ReplayMemoryNeverForgets(t *testing.T) {
	ctx := context.Background()
	m := newMemoryRevocations()
	later := time.Now().Add(time.Hour)
	for i := range 1 << 16 {
		if first, err := m.FirstSeen(ctx, strconv.Itoa(i), later.Add(time.Duration(i))); !first || err != nil {
			t.Fatalf("id %d: %v, %v", i, first, err)
		}
	}
	first, err := m.FirstSeen(ctx, "one more", later)
	var full *errSeenFull
	if first || !errors.As(err, &full) || full.retry <= 59*time.Minute {
		t.Fatalf("full memory: first %v, error %v", first, err)
	}
	for _, id := range []string{"0", "1", "65535"} {
		if first, err := m.FirstSeen(ctx, id, later); first || err != nil {
			t.Errorf("id %s forgotten before it expired: %v, %v", id, first, err)
		}
	}
}

// TestIssue26_5_ReplayMemoryExpiredMakeRoom: an expired id makes room,
// wherever it was recorded, and is then new again.
func TestIssue26_5_ReplayMemoryExpiredMakeRoom(t *testing.T) {
	ctx := context.Background()
	m := newMemoryRevocations()
	m.maxSeen = 3
	now := time.Now()
	for id, expires := range map[string]time.Time{"a": now.Add(time.Hour), "b": now.Add(-time.Second), "c": now.Add(time.Hour)} {
		if first, err := m.FirstSeen(ctx, id, expires); !first || err != nil {
			t.Fatalf("%s: %v, %v", id, first, err)
		}
	}
	if first, err := m.FirstSeen(ctx, "d", now.Add(time.Hour)); !first || err != nil {
		t.Errorf("no room made by the expired id: %v, %v", first, err)
	}
	if _, err := m.FirstSeen(ctx, "b", now.Add(time.Hour)); err == nil {
		t.Error("full of unexpired ids, the memory recorded one more")
	}
	if first, err := m.FirstSeen(ctx, "a", now.Add(time.Hour)); first || err != nil {
		t.Errorf("a forgotten: %v, %v", first, err)
	}
}

// TestIssue26_5_ReplayMemoryFullIs503: a Validator whose replay memory is
// full refuses a new proof with 503 and Retry-After, never accepting it
// unrecorded.
func TestIssue26_5_ReplayMemoryFullIs503(t *testing.T) {
	a := bearertest.New(t)
	v, err := New(context.Background(), Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := v.dpop.replay.(*memoryRevocations)
	m.maxSeen = 2
	key := bearertest.NewDPoPKey("ES256")
	tok := a.Token(bearertest.Payload{"aud": "api", "cnf": key.Confirmation()})
	present := func() error {
		_, err := v.ValidatePresentation(context.Background(), Presentation{Scheme: "DPoP", Token: tok, Method: "GET", URL: "https://api.example/",
			DPoP: []string{key.Proof("GET", "https://api.example/", tok)}})
		return err
	}
	for range 2 {
		if err := present(); err != nil {
			t.Fatal(err)
		}
	}
	err = present()
	if e := AsError(err); !errors.Is(err, ErrUnavailable) || e.Status != 503 || e.RetryAfter < defaultDPoPProofAge {
		t.Fatalf("memory full: %v", err)
	}
}

// TestProofFloodLeavesLogoutMemory: without a RevocationStore the proofs
// and the logout tokens seen are kept apart, so proofs that fill their
// memory (a client with a bound token and its key can send any number)
// leave logout tokens recorded and refused when replayed, and the other
// way round. Neither memory forgets an unexpired id (see
// TestIssue26_5_ReplayMemoryNeverForgets): a flood delays, never replays.
func TestProofFloodLeavesLogoutMemory(t *testing.T) {
	a := bearertest.New(t)
	v, err := New(context.Background(), Config{Authority: a.Issuer(), Audience: []string{"api"}, ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v.LogoutHandler())
	t.Cleanup(srv.Close)
	logout := func(token string) int {
		t.Helper()
		resp, err := a.PostLogout(srv.URL, token)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	key := bearertest.NewDPoPKey("ES256")
	tok := a.Token(bearertest.Payload{"aud": "api", "cnf": key.Confirmation(), "sub": "bob"})
	present := func() error {
		_, err := v.ValidatePresentation(context.Background(), Presentation{Scheme: "DPoP", Token: tok, Method: "GET", URL: "https://api.example/",
			DPoP: []string{key.Proof("GET", "https://api.example/", tok)}})
		return err
	}

	proofs, logouts := v.dpop.replay.(*memoryRevocations), v.store.(*memoryRevocations)
	if proofs == logouts {
		t.Fatal("proofs and logout tokens share one memory")
	}
	proofs.maxSeen = 1
	if err := present(); err != nil {
		t.Fatal(err)
	}
	if err := present(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a proof beyond a full memory: %v, want 503", err)
	}
	lt := a.LogoutToken(bearertest.Payload{"sub": "carol"})
	if status := logout(lt); status != http.StatusOK {
		t.Fatalf("a logout token with the proofs' memory full: %d", status)
	}
	if status := logout(lt); status != http.StatusBadRequest {
		t.Errorf("the logout token replayed: %d, want 400", status)
	}

	// The other way round: logout tokens fill theirs, proofs pass.
	proofs.maxSeen, logouts.maxSeen = maxSeenIDs, 1
	if status := logout(a.LogoutToken(bearertest.Payload{"sub": "dave"})); status != http.StatusServiceUnavailable {
		t.Errorf("a logout token beyond a full memory: %d, want 503", status)
	}
	if err := present(); err != nil {
		t.Errorf("a proof with the logout tokens' memory full: %v", err)
	}
}
