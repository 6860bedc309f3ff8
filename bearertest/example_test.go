package bearertest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// An authority publishes discovery and keys on a loopback address and mints
// tokens a validator configured with its URL should accept.
func Example() {
	a := bearertest.NewAuthority()
	defer a.Close()

	token := a.Token(bearertest.Payload{"aud": "api", "scope": "read write"})

	// A real test would hand a.URL to the validator and token to the API.
	parts := strings.Split(token, ".")
	var header, claims map[string]any
	decode(parts[0], &header)
	decode(parts[1], &claims)
	fmt.Println(header["alg"], header["typ"], header["kid"] == a.KeyID("RS256"))
	fmt.Println(claims["iss"] == a.Issuer(), claims["sub"], claims["aud"], claims["scope"])
	// Output:
	// RS256 at+jwt true
	// true alice api read write
}

// Faults make the authority misbehave the way real ones do.
func ExampleAuthority_SetStatus() {
	a := bearertest.NewAuthority()
	defer a.Close()

	a.SetStatus(bearertest.JWKS, http.StatusServiceUnavailable)
	resp, err := http.Get(a.JWKSURL())
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, a.Hits(bearertest.JWKS))
	// Output: 503 1
}

func decode(seg string, v any) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		panic(err)
	}
}

// A validator configured with a shared secret (HS256) accepts the tokens
// the authority signs with its SharedSecret.
func ExampleAuthority_SharedSecret() {
	a := bearertest.NewAuthority()
	defer a.Close()

	v, err := bearer.New(context.Background(), bearer.Config{
		Authority:    a.Issuer(),
		Audience:     []string{"api"},
		Algorithms:   []string{"HS256"},
		SharedSecret: a.SharedSecret(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	claims, err := v.Validate(context.Background(), a.TokenWith("HS256", nil, bearertest.Payload{"aud": "api", "sub": "bob"}))
	fmt.Println(claims.Subject, err)
	// Output: bob <nil>
}

// A token carries whatever claims a test needs: how the user signed in
// (acr, auth_time, amr; RFC 9470), what exactly was authorised
// (authorization_details; RFC 9396) and who acts for the user (act; RFC
// 8693). ReferenceToken takes the same payload for an introspection answer.
func ExampleAuthority_Token_requirements() {
	a := bearertest.NewAuthority()
	defer a.Close()
	payload := bearertest.Payload{
		"aud":       "api",
		"scope":     "payments",
		"acr":       "urn:example:mfa",
		"auth_time": time.Now().Add(-time.Minute),
		"amr":       []string{"pwd", "otp"},
		"authorization_details": []map[string]any{{
			"type":             "payment_initiation",
			"instructedAmount": map[string]string{"currency": "EUR", "amount": "123.50"},
		}},
		"act": map[string]any{"sub": "agent-7", "act": map[string]any{"sub": "planner"}},
	}

	v, err := bearer.New(context.Background(), bearer.Config{
		Authority: a.Issuer(), Audience: []string{"api"}, ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	for _, token := range []string{a.Token(payload), a.ReferenceToken(payload)} {
		c, err := v.Validate(context.Background(), token)
		if err != nil {
			log.Fatal(err)
		}
		d, actors := c.AuthorizationDetails(), c.Actors()
		fmt.Println(c.Map()["acr"], d[0].Type, string(d[0].Raw), actors[0].Subject, len(actors))
	}
	// Output:
	// urn:example:mfa payment_initiation {"instructedAmount":{"amount":"123.50","currency":"EUR"},"type":"payment_initiation"} agent-7 2
	// urn:example:mfa payment_initiation {"instructedAmount":{"amount":"123.50","currency":"EUR"},"type":"payment_initiation"} agent-7 2
}
