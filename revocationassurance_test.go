package bearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// requireOn validates token for a route with requirement r.
func requireOn(v *bearer.Validator, token string, r bearer.Requirement) error {
	_, err := v.ValidatePresentation(context.Background(), bearer.Presentation{Token: token, Require: []bearer.Requirement{r}})
	return err
}

// A user's lower assurance (Revocation.ACRSubject) makes the tokens issued
// before it fail acr requirements, answered by a challenge to sign in
// again, cached or not; routes without one accept them, and tokens issued
// after it, or of other users, are untouched.
func TestAssuranceLowered(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	ctx := context.Background()
	at := time.Now().Add(-time.Minute)
	mfa := bearer.ACR("urn:example:mfa")
	old := a.Token(claims(bearertest.Payload{"acr": "urn:example:mfa", "iat": at.Add(-time.Second)}))
	noIAT := a.Token(claims(bearertest.Payload{"acr": "urn:example:mfa", "iat": nil}))
	later := a.Token(claims(bearertest.Payload{"acr": "urn:example:mfa", "iat": at.Add(time.Second)}))
	bob := a.Token(claims(bearertest.Payload{"sub": "bob", "acr": "urn:example:mfa", "iat": at.Add(-time.Second)}))
	if err := requireOn(v, old, mfa); err != nil { // cached from now on
		t.Fatal(err)
	}
	sub := mustValid(t, v, old).Subject

	if err := v.Revoke(ctx, bearer.Revocation{ACRSubject: sub, ACR: "urn:example:pwd", IssuedBefore: at}); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"issued before": old, "without iat": noIAT} {
		err := requireOn(v, tok, mfa)
		var e *bearer.Error
		if !errors.As(err, &e) || !errors.Is(err, bearer.ErrInsufficientUserAuthentication) || e.Status != 401 || e.ACRValues != "urn:example:mfa" {
			t.Errorf("%s: %v, want 401 insufficient_user_authentication naming urn:example:mfa", name, err)
		}
		if err := requireOn(v, tok, bearer.AllOf("api")); err != nil {
			t.Errorf("%s, on a route of scopes only: %v", name, err)
		}
		mustValid(t, v, tok)
	}
	for name, tok := range map[string]string{"issued after": later, "another user": bob} {
		if err := requireOn(v, tok, mfa); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := v.Status().Revocations; n != 1 {
		t.Errorf("Status.Revocations %d, want 1", n)
	}

	// A level that names no acr value meets no acr requirement.
	if err := v.Revoke(ctx, bearer.Revocation{ACRSubject: "bob", IssuedBefore: at}); err != nil {
		t.Fatal(err)
	}
	if err := requireOn(v, bob, mfa); !errors.Is(err, bearer.ErrInsufficientUserAuthentication) {
		t.Errorf("bob, without acr now: %v", err)
	}
}

// With ranked levels, an old token keeps meeting the requirements its
// user's new level meets; and a new level gives an old token nothing it
// did not have.
func TestAssuranceRanked(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	levels := []string{"pwd", "mfa", "hwk"}
	at := time.Now().Add(-time.Minute)
	hwk := a.Token(claims(bearertest.Payload{"acr": "hwk", "iat": at.Add(-time.Second)}))
	pwd := a.Token(claims(bearertest.Payload{"sub": "bob", "acr": "pwd", "iat": at.Add(-time.Second)}))
	for _, r := range []bearer.Revocation{
		{ACRSubject: mustValid(t, v, hwk).Subject, ACR: "mfa", IssuedBefore: at},
		{ACRSubject: "bob", ACR: "hwk", IssuedBefore: at}, // an increase
	} {
		if err := v.Revoke(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := requireOn(v, hwk, bearer.ACRAtLeast("mfa", levels)); err != nil {
		t.Errorf("at least mfa, the new level: %v", err)
	}
	if err := requireOn(v, hwk, bearer.ACRAtLeast("hwk", levels)); !errors.Is(err, bearer.ErrInsufficientUserAuthentication) {
		t.Errorf("at least hwk, above the new level: %v", err)
	}
	if err := requireOn(v, pwd, bearer.ACRAtLeast("mfa", levels)); !errors.Is(err, bearer.ErrInsufficientUserAuthentication) {
		t.Errorf("a raised level raised an old token: %v", err)
	}
}

// For each user the latest change holds, whatever the order the changes
// arrive in (replicas receive them in different orders).
func TestAssuranceLatestHolds(t *testing.T) {
	a := bearertest.New(t)
	t0 := time.Now().Add(-time.Hour)
	tok := a.Token(claims(bearertest.Payload{"acr": "mfa", "iat": t0}))
	first := bearer.Revocation{ACRSubject: "alice", ACR: "pwd", IssuedBefore: t0.Add(time.Minute)}
	second := bearer.Revocation{ACRSubject: "alice", ACR: "mfa", IssuedBefore: t0.Add(2 * time.Minute)}
	for name, order := range map[string][]bearer.Revocation{"in order": {first, second}, "reversed": {second, first}} {
		v := newValidator(t, a, bearer.Config{})
		if got := mustValid(t, v, tok).Subject; got != first.ACRSubject {
			t.Fatalf("subject %q", got)
		}
		for _, r := range order {
			if err := v.Revoke(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := requireOn(v, tok, bearer.ACR("mfa")); err != nil {
			t.Errorf("%s: %v, want the latest level, mfa, to hold", name, err)
		}
	}
}

// An assurance change reaches the other replicas through the store; on
// the way, it shows no member a replica that predates it reads (sid,
// sub, jti, token_sha256), so such a replica finds the record unusable
// and ignores it rather than signing the user out.
func TestAssuranceReplicas(t *testing.T) {
	a := bearertest.New(t)
	store := newSharedStore()
	one, two := newValidator(t, a, bearer.Config{RevocationStore: store}), newValidator(t, a, bearer.Config{RevocationStore: store})
	waitSubscribed(t, store, 2)
	tok := a.Token(claims(bearertest.Payload{"acr": "mfa", "iat": time.Now().Add(-time.Minute)}))
	r := bearer.Revocation{ACRSubject: mustValid(t, two, tok).Subject, ACR: "pwd"}
	if err := one.Revoke(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if err := requireOn(two, tok, bearer.ACR("mfa")); !errors.Is(err, bearer.ErrInsufficientUserAuthentication) {
		t.Errorf("the other replica: %v", err)
	}
	mustValid(t, two, tok)

	store.mu.Lock()
	recorded := store.revocations[0]
	store.mu.Unlock()
	b, err := json.Marshal(recorded)
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]any
	if err := json.Unmarshal(b, &members); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"sid", "sub", "jti", "token_sha256", "no_sid"} {
		if _, ok := members[m]; ok {
			t.Errorf("the record %s has %q, which an older replica reads as a revocation", b, m)
		}
	}
	var back bearer.Revocation
	if err := json.Unmarshal(b, &back); err != nil || back.ACRSubject != r.ACRSubject || back.ACR != "pwd" || back.IssuedBefore.IsZero() {
		t.Errorf("the record %s decodes as %+v, %v", b, back, err)
	}
}

func TestAssuranceRefusesBadRecords(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	for _, r := range []bearer.Revocation{
		{Subject: "alice", ACR: "pwd"},
		{ACR: "pwd"},
		{ACRSubject: "alice", ACR: "pwd", Subject: "alice"},
		{ACRSubject: "alice", ACR: "pwd", WithoutSession: true},
	} {
		if err := v.Revoke(context.Background(), r); err == nil {
			t.Errorf("Revoke(%+v) succeeded", r)
		}
	}
}
