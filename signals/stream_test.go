package signals_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/signals"
)

// A receiver creates its stream from the transmitter's metadata, reads
// it, changes what it requests, and verifies it by push and by poll.
func TestStreamManagement(t *testing.T) {
	g := newRig(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	s := g.pushStream(t, "")
	if s.ID == "" || s.Issuer != g.transmitter.Issuer() || s.Audience != g.transmitter.Audience() {
		t.Errorf("created stream: %+v", s)
	}
	if !slices.Equal(s.EventsRequested, signals.Events) || len(s.EventsDelivered) != len(signals.Events) {
		t.Errorf("events requested %q, delivered %q; want signals.Events", s.EventsRequested, s.EventsDelivered)
	}
	read, err := g.r.ReadStream(ctx, s.ID)
	if err != nil || read.ID != s.ID || *read.Delivery != *s.Delivery {
		t.Errorf("ReadStream: %+v, %v", read, err)
	}
	updated, err := g.r.UpdateStream(ctx, signals.Stream{ID: s.ID, EventsRequested: []string{bearertest.SessionRevoked}})
	if err != nil || !slices.Equal(updated.EventsDelivered, []string{bearertest.SessionRevoked}) || *updated.Delivery != *s.Delivery {
		t.Errorf("UpdateStream: %+v, %v", updated, err)
	}
	if err := g.r.Verify(ctx, s.ID); err != nil {
		t.Errorf("Verify by push: %v", err)
	}
	if _, err := g.r.ReadStream(ctx, "no-such-stream"); err == nil {
		t.Error("ReadStream of a stream that does not exist: no error")
	}

	// The same stream, moved to poll delivery.
	polled, err := g.r.UpdateStream(ctx, signals.Stream{ID: s.ID, Delivery: &signals.Delivery{Method: signals.DeliveryPoll}})
	if err != nil || polled.Delivery == nil || polled.Delivery.Method != signals.DeliveryPoll || polled.Delivery.EndpointURL == "" {
		t.Fatalf("UpdateStream to poll: %+v, %v", polled, err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- g.r.Poll(pctx, polled.Delivery.EndpointURL) }()
	if err := g.r.Verify(ctx, s.ID); err != nil {
		t.Errorf("Verify by poll: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Poll: %v", err)
	}
}

// Verify returns when its context ends if the verification event never
// comes, and stream management fails cleanly without a transmitter.
func TestStreamFailures(t *testing.T) {
	g := newRig(t, nil)
	s := g.pushStream(t, "")
	g.push.Close() // the pushes, the verification event's among them, fail
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := g.r.Verify(ctx, s.ID); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify without delivery: %v", err)
	}

	tr := bearertest.NewTransmitter("")
	r, err := signals.New(context.Background(), signals.Config{Transmitter: tr.Issuer(), Audience: tr.Audience(), Validator: g.v, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tr.Close()
	if _, err := r.CreateStream(context.Background(), signals.Stream{Delivery: &signals.Delivery{Method: signals.DeliveryPoll}}); err == nil {
		t.Error("CreateStream without a transmitter: no error")
	}
}
