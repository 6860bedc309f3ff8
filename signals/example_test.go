package signals_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/signals"
)

// An API receives its identity provider's signals by push: a session
// revoked there is refused here at once.
func Example() {
	ctx := context.Background()
	idp := bearertest.NewAuthority() // stands in for https://login.example.com
	defer idp.Close()
	transmitter := bearertest.NewTransmitter("") // its Shared Signals transmitter
	defer transmitter.Close()

	v, err := bearer.New(ctx, bearer.Config{Authority: idp.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	r, err := signals.New(ctx, signals.Config{
		Transmitter: transmitter.Issuer(),
		Audience:    transmitter.Audience(),
		Validator:   v,
		Issuer:      idp.Issuer(), // whose sessions the transmitter names
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	mux := http.NewServeMux()
	mux.Handle("POST /ssf/events", r)
	api := httptest.NewServer(mux)
	defer api.Close()

	// The stream: SETs pushed to the API's endpoint.
	if _, err := r.CreateStream(ctx, signals.Stream{Delivery: &signals.Delivery{Method: signals.DeliveryPush, EndpointURL: api.URL + "/ssf/events"}}); err != nil {
		log.Fatal(err)
	}

	token := idp.Token(bearertest.Payload{"aud": "api", "sid": "s1"})
	_, err = v.Validate(ctx, token)
	fmt.Println("before:", err)

	session := map[string]any{"format": "complex", "session": map[string]any{"format": "opaque", "id": "s1"}}
	if err := transmitter.Send(transmitter.Event(bearertest.SessionRevoked, session, nil)); err != nil {
		log.Fatal(err)
	}
	_, err = v.Validate(ctx, token)
	fmt.Println("after:", errors.Is(err, bearer.ErrRevoked))
	// Output:
	// before: <nil>
	// after: true
}
