package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/signals"
)

// receiveSignals makes the receiver of the transmitter's Shared Signals
// (docs/shared-signals.md): each event it acts on becomes a revocation in
// v, which store, if not nil, carries to the other replicas and where each
// SET's jti is recorded once for all of them. The sessions and opaque
// subjects it names are those of authority's tokens. With poll, it also polls
// that stream endpoint until ctx ends. The stream itself is made at the
// transmitter beforehand (Receiver.CreateStream, or the transmitter's
// console): for push, its endpoint_url is this API's /ssf/events.
func receiveSignals(ctx context.Context, v *bearer.Validator, store bearer.RevocationStore, authority, transmitter, audience, poll string, stderr io.Writer) (*signals.Receiver, error) {
	if audience == "" {
		return nil, errors.New("-ssf-transmitter needs -ssf-audience, the aud of its SETs")
	}
	r, err := signals.New(ctx, signals.Config{
		Transmitter: transmitter,
		Audience:    audience,
		Validator:   v,
		Store:       store,     // nil: this process's memory
		Issuer:      authority, // opaque subjects and sessions are this API's authority's
	})
	if err != nil {
		return nil, err
	}
	if poll != "" {
		go func() {
			if err := r.Poll(ctx, poll); err != nil {
				fmt.Fprintf(stderr, "api: polling %s: %v\n", poll, err)
			}
		}()
	}
	return r, nil
}
