package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The introspection client on its own: no middleware, no Validator.
func ExampleNewIntrospector() {
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()

	in, err := bearer.NewIntrospector(bearer.Config{
		Authority:    authority.Issuer(),
		ClientID:     "api",    // the API's own credentials at the authority
		ClientSecret: "secret", // (from a secret store, not the source)
	})
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()

	token := authority.ReferenceToken(bearertest.Payload{"sub": "bob", "scope": "api.read"})
	res, err := in.Introspect(context.Background(), token)
	if err != nil {
		log.Fatal(err) // the authority could not answer: not the token's fault
	}
	fmt.Println(res.Active, res.Subject, res.Scopes)

	authority.Revoke(token)
	in.Forget(token) // or wait for Config.CacheDuration to pass
	res, err = in.Introspect(context.Background(), token)
	fmt.Println(res.Active, err)
	// Output:
	// true bob [api.read]
	// false <nil>
}

// Inactive is an answer; unavailable is an error that blames no token.
func ExampleIntrospector_Introspect() {
	authority := bearertest.NewAuthority()
	defer authority.Close()
	in, err := bearer.NewIntrospector(bearer.Config{
		IntrospectionEndpoint: authority.IntrospectionURL(), // no discovery needed
		ClientID:              "api",
		ClientSecret:          "secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()

	authority.SetStatus(bearertest.Introspection, http.StatusInternalServerError)
	_, err = in.Introspect(context.Background(), "some-reference-token")
	fmt.Println(errors.Is(err, bearer.ErrUnavailable))
	// Output: true
}

// A Validator introspects reference tokens and validates JWTs locally
// (ModeAuto, the default) once it has the API's credentials.
func ExampleNew_referenceTokens() {
	authority := bearertest.NewAuthority()
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{
		Authority:      authority.Issuer(),
		RequiredScopes: bearer.AnyOf("api"),
		ClientID:       "api",
		ClientSecret:   "secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	for _, token := range []string{
		authority.ReferenceToken(bearertest.Payload{"scope": "api", "sub": "ref"}),
		authority.Token(bearertest.Payload{"scope": "api", "sub": "jwt"}),
	} {
		claims, err := v.Validate(context.Background(), token)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(claims.Subject)
	}
	// Output:
	// ref
	// jwt
}
