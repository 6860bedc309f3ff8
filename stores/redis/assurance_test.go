package redis

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/signals"
)

// TestAssuranceChangeReachesReplicas: a CAEP assurance-level-change pushed
// to one replica's receiver lowers the user's acr on the other replica
// too, and on one started afterwards: tokens issued before it fail a
// step-up requirement there, and are still accepted without one. The
// record crosses Redis as JSON, so this is also the store's decoding of
// it.
func TestAssuranceChangeReachesReplicas(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	tx := bearertest.StartTransmitter(t)
	one, _ := connectedReplica(t, a, r)
	two := replica(t, a, newStore(t, r))
	rc, err := signals.New(context.Background(), signals.Config{
		Transmitter: tx.Issuer(), Audience: tx.Audience(), Validator: one, Issuer: a.Issuer(), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	push := httptest.NewServer(rc)
	t.Cleanup(push.Close)
	if _, err := rc.CreateStream(context.Background(), signals.Stream{Delivery: &signals.Delivery{Method: signals.DeliveryPush, EndpointURL: push.URL}}); err != nil {
		t.Fatal(err)
	}

	at := time.Now().Add(-time.Minute)
	tok := a.Token(claims(bearertest.Payload{"sub": "alice", "acr": "urn:example:mfa", "iat": at.Add(-time.Second)}))
	stepUp := []bearer.Requirement{bearer.ACR("urn:example:mfa")}
	check := func(v *bearer.Validator) error {
		_, err := v.ValidatePresentation(context.Background(), bearer.Presentation{Token: tok, Require: stepUp})
		return err
	}
	if err := check(two); err != nil {
		t.Fatal(err)
	}
	set := tx.Event(bearertest.AssuranceChange, map[string]any{"format": "iss_sub", "iss": a.Issuer(), "sub": "alice"}, bearertest.Payload{
		"namespace": "x-example", "current_level": "urn:example:pwd", "change_direction": "decrease", "event_timestamp": at.Unix(),
	})
	if err := tx.Send(set); err != nil {
		t.Fatal(err)
	}
	lowered := func(v *bearer.Validator) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second) // generous: not a measure of speed
		for {
			err := check(v)
			if errors.Is(err, bearer.ErrInsufficientUserAuthentication) {
				break
			}
			if err != nil {
				t.Fatalf("step-up route: %v, want ErrInsufficientUserAuthentication", err)
			}
			if time.Now().After(deadline) {
				t.Fatal("the assurance change did not reach this replica")
			}
			time.Sleep(10 * time.Millisecond)
		}
		mustValid(t, v, tok)
	}
	lowered(one)
	lowered(two)
	lowered(replica(t, a, newStore(t, r)))
}
