package signals_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/signals"
)

// pollStream creates a poll stream and polls it until the test ends.
func (g *rig) pollStream(t *testing.T) {
	t.Helper()
	s, err := g.r.CreateStream(context.Background(), signals.Stream{Delivery: &signals.Delivery{Method: signals.DeliveryPoll}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Delivery == nil || s.Delivery.Method != signals.DeliveryPoll || s.Delivery.EndpointURL == "" {
		t.Fatalf("poll stream without an endpoint: %+v", s.Delivery)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := g.r.Poll(ctx, s.Delivery.EndpointURL); err != nil {
			t.Errorf("Poll: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// Polled SETs are applied and acknowledged; a refused one is reported in
// setErrs with its RFC 8935 code, and not delivered again.
func TestPoll(t *testing.T) {
	g := newRig(t, nil)
	g.pollStream(t)
	s1 := g.token(bearertest.Payload{"sid": "s1"})
	s2 := g.token(bearertest.Payload{"sid": "s2"})
	bob := g.token(bearertest.Payload{"sub": "bob"})
	bad := g.transmitter.SET(bearertest.Payload{"aud": "someone-else", "jti": "bad", "sub_id": session(nil, "s3"),
		"events": map[string]any{bearertest.SessionRevoked: map[string]any{}}})
	for _, set := range []string{
		g.transmitter.Event(bearertest.SessionRevoked, session(nil, "s1"), nil),
		bad,
		g.transmitter.Event(bearertest.SessionRevoked, session(nil, "s2"), nil),
	} {
		if err := g.transmitter.Send(set); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every SET acknowledged", func() bool { return g.transmitter.Unacknowledged() == 0 })
	if !g.refused(t, s1) || !g.refused(t, s2) {
		t.Error("a polled session-revoked event did not revoke its session")
	}
	if g.refused(t, bob) {
		t.Error("a token no event names is refused")
	}
	if code := g.transmitter.Refused("bad"); code != "invalid_audience" {
		t.Errorf("setErrs for the SET with the wrong aud: %q, want invalid_audience", code)
	}
	if n := g.v.Status().Revocations; n != 2 {
		t.Errorf("%d revocations, want 2", n)
	}
}

// The transmitter restarted mid-stream (its connections cut, a long poll
// unanswered) loses nothing: SETs queued before, during and after the
// restart are all applied and acknowledged.
func TestPollTransmitterRestart(t *testing.T) {
	g := newRig(t, nil)
	g.pollStream(t)
	var tokens []string
	send := func(sid string) {
		tokens = append(tokens, g.token(bearertest.Payload{"sid": sid}))
		if err := g.transmitter.Send(g.transmitter.Event(bearertest.SessionRevoked, session(nil, sid), nil)); err != nil {
			t.Fatal(err)
		}
	}
	send("a")
	eventually(t, "the first SET acknowledged", func() bool { return g.transmitter.Unacknowledged() == 0 })
	if err := g.transmitter.Restart(); err != nil {
		t.Fatal(err)
	}
	send("b")
	send("c")
	if err := g.transmitter.Restart(); err != nil {
		t.Fatal(err)
	}
	send("d")
	eventually(t, "every SET acknowledged", func() bool { return g.transmitter.Unacknowledged() == 0 })
	for i, token := range tokens {
		if !g.refused(t, token) {
			t.Errorf("session %d not revoked", i)
		}
	}
}

// A receiver restarted between processing SETs and acknowledging them
// gets them again, acknowledges them, and applies them to no effect.
func TestPollReceiverRestart(t *testing.T) {
	store := &countingStore{}
	// The first receiver stops before an acknowledgment reaches the
	// transmitter: each one is lost on the way.
	g := newRig(t, func(c *signals.Config) { c.Store = store; c.HTTPClient = &http.Client{Transport: dropAcks{}} })
	s, err := g.r.CreateStream(context.Background(), signals.Stream{Delivery: &signals.Delivery{Method: signals.DeliveryPoll}})
	if err != nil {
		t.Fatal(err)
	}
	token := g.token(bearertest.Payload{"sid": "s1"})
	if err := g.transmitter.Send(g.transmitter.Event(bearertest.SessionRevoked, session(nil, "s1"), nil)); err != nil {
		t.Fatal(err)
	}
	// The first receiver processes the SET, and stops before its next
	// poll acknowledges it.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.r.Poll(ctx, s.Delivery.EndpointURL)
	}()
	eventually(t, "the SET processed", func() bool { return g.refused(t, token) })
	if g.transmitter.Unacknowledged() != 1 {
		t.Fatal("the SET was acknowledged")
	}
	g.r.Close()
	cancel()
	<-done

	// Its successor, sharing the store, is given the SET again.
	r2, err := signals.New(context.Background(), signals.Config{
		Transmitter: g.transmitter.Issuer(), Audience: g.transmitter.Audience(), Validator: g.v, Store: store, Issuer: g.authority.Issuer(),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	done = make(chan struct{})
	go func() {
		defer close(done)
		r2.Poll(ctx, s.Delivery.EndpointURL)
	}()
	eventually(t, "the SET acknowledged", func() bool { return g.transmitter.Unacknowledged() == 0 })
	cancel()
	<-done
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.first != 1 || store.again != 1 {
		t.Errorf("FirstSeen: %d first, %d again; want 1 and 1", store.first, store.again)
	}
}

// dropAcks is a transport that loses the polls that acknowledge SETs.
type dropAcks struct{}

func (dropAcks) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(body, []byte(`"ack"`)) {
			return nil, errors.New("connection lost")
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return http.DefaultTransport.RoundTrip(req)
}
