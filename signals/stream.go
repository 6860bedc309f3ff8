package signals

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"slices"
)

// The delivery methods of SSF 1.0 §8.1.1.
const (
	DeliveryPush = "urn:ietf:rfc:8935"
	DeliveryPoll = "urn:ietf:rfc:8936"
)

// Stream is a stream's configuration at the transmitter (SSF 1.0
// §8.1.1). The transmitter sets ID, Issuer, Audience, EventsSupported and
// EventsDelivered; the receiver chooses Delivery, EventsRequested and
// Description.
type Stream struct {
	ID              string    `json:"stream_id,omitempty"`
	Issuer          string    `json:"iss,omitempty"`
	Audience        any       `json:"aud,omitempty"` // a string or an array of strings
	EventsSupported []string  `json:"events_supported,omitempty"`
	EventsRequested []string  `json:"events_requested,omitempty"`
	EventsDelivered []string  `json:"events_delivered,omitempty"`
	Delivery        *Delivery `json:"delivery,omitempty"`
	Description     string    `json:"description,omitempty"`
}

// Delivery says how a stream's SETs reach the receiver. For push, the
// receiver gives EndpointURL (where it mounts the Receiver) and the
// AuthorizationHeader the transmitter is to send (Config.PushAuthorization);
// for poll, the transmitter gives EndpointURL (Poll's endpoint).
type Delivery struct {
	Method              string `json:"method"`
	EndpointURL         string `json:"endpoint_url,omitempty"`
	AuthorizationHeader string `json:"authorization_header,omitempty"`
}

// CreateStream creates a stream at the transmitter's
// configuration_endpoint (SSF 1.0 §8.1.1.1) and returns it as the
// transmitter configured it: for poll, with the endpoint to give Poll.
// Without EventsRequested it asks for Events.
func (r *Receiver) CreateStream(ctx context.Context, s Stream) (*Stream, error) {
	if s.Delivery == nil {
		return nil, errors.New("signals: CreateStream needs Stream.Delivery")
	}
	if s.EventsRequested == nil {
		s.EventsRequested = slices.Clone(Events)
	}
	s.ID, s.Issuer, s.Audience, s.EventsSupported, s.EventsDelivered = "", "", nil, nil, nil
	return r.streamCall(ctx, http.MethodPost, "", s, http.StatusCreated, http.StatusOK)
}

// ReadStream reads the stream id (SSF 1.0 §8.1.1.2).
func (r *Receiver) ReadStream(ctx context.Context, id string) (*Stream, error) {
	if id == "" {
		return nil, errors.New("signals: ReadStream needs a stream id")
	}
	return r.streamCall(ctx, http.MethodGet, id, nil, http.StatusOK)
}

// UpdateStream changes what s sets of the stream s.ID, leaving the rest as
// it is (SSF 1.0 §8.1.1.3, PATCH), and returns the stream as the
// transmitter configured it.
func (r *Receiver) UpdateStream(ctx context.Context, s Stream) (*Stream, error) {
	if s.ID == "" {
		return nil, errors.New("signals: UpdateStream needs Stream.ID")
	}
	s.Issuer, s.Audience, s.EventsSupported, s.EventsDelivered = "", nil, nil, nil
	return r.streamCall(ctx, http.MethodPatch, "", s, http.StatusOK)
}

// streamCall calls the configuration_endpoint, with ?stream_id=id if id
// is set.
func (r *Receiver) streamCall(ctx context.Context, method, id string, body any, ok ...int) (*Stream, error) {
	md, _, err := r.transmitter(ctx, true)
	if err != nil {
		return nil, err
	}
	if md.ConfigurationEndpoint == "" {
		return nil, errors.New("signals: the transmitter publishes no configuration_endpoint")
	}
	endpoint := md.ConfigurationEndpoint
	if id != "" {
		endpoint += "?" + url.Values{"stream_id": {id}}.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	var out Stream
	if err := r.call(ctx, method, endpoint, body, &out, ok...); err != nil {
		return nil, err
	}
	return &out, nil
}

// Verify asks the transmitter for a verification event on stream id
// (SSF 1.0 §8.1.4) and waits until it has been received (pushed to the
// Receiver, or polled by a Poll running meanwhile), or ctx ends.
func (r *Receiver) Verify(ctx context.Context, id string) error {
	md, _, err := r.transmitter(ctx, true)
	if err != nil {
		return err
	}
	if md.VerificationEndpoint == "" {
		return errors.New("signals: the transmitter publishes no verification_endpoint")
	}
	state := rand.Text()
	done := make(chan struct{})
	r.vmu.Lock()
	r.waiting[state] = done
	r.vmu.Unlock()
	defer func() {
		r.vmu.Lock()
		delete(r.waiting, state)
		r.vmu.Unlock()
	}()
	cctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	err = r.call(cctx, http.MethodPost, md.VerificationEndpoint, map[string]string{"stream_id": id, "state": state}, nil, http.StatusNoContent, http.StatusOK)
	cancel()
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// verified wakes the Verify waiting for state.
func (r *Receiver) verified(state string) {
	r.vmu.Lock()
	defer r.vmu.Unlock()
	if done, ok := r.waiting[state]; ok {
		close(done)
		delete(r.waiting, state)
	}
}
