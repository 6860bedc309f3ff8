package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

func ExampleNewMulti() {
	production := bearertest.NewAuthority() // https://login.example.com
	defer production.Close()
	tenant := bearertest.NewAuthority(bearertest.WithPath("/acme")) // https://id.example.com/acme, one of many
	defer tenant.Close()
	tenantBase := strings.TrimSuffix(tenant.Issuer(), "/acme")

	v, err := bearer.NewMulti(context.Background(), bearer.MultiConfig{
		Authorities: []bearer.Config{
			{Authority: production.Issuer(), Audience: []string{"api"}},
		},
		// Every tenant of the identity service, by name alone: no I/O here.
		Resolve: func(iss string) (bearer.Config, bool) {
			name, ok := strings.CutPrefix(iss, tenantBase+"/")
			if !ok || name == "" || strings.ContainsAny(name, "/?#") {
				return bearer.Config{}, false
			}
			return bearer.Config{Audience: []string{"api"}, RequiredScopes: bearer.AnyOf("orders")}, true
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	for _, token := range []string{
		production.Token(bearertest.Payload{"aud": "api", "sub": "ops"}),
		tenant.Token(bearertest.Payload{"aud": "api", "scope": "orders", "sub": "alice"}),
	} {
		claims, err := v.Validate(context.Background(), token)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(claims.Subject, claims.Authority() == claims.Issuer)
	}
	// Output:
	// ops true
	// alice true
}

func ExampleValidator_Revoke_severalAuthorities() {
	a, b := bearertest.NewAuthority(), bearertest.NewAuthority()
	defer a.Close()
	defer b.Close()
	v, err := bearer.NewMulti(context.Background(), bearer.MultiConfig{Authorities: []bearer.Config{
		{Authority: a.Issuer(), Audience: []string{"api"}},
		{Authority: b.Issuer(), Audience: []string{"api"}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	tokens := []string{
		a.Token(bearertest.Payload{"aud": "api", "sub": "alice"}),
		b.Token(bearertest.Payload{"aud": "api", "sub": "alice"}),
	}
	// alice at a is not alice at b: a revocation names its authority.
	if err := v.Revoke(context.Background(), bearer.Revocation{Issuer: a.Issuer(), Subject: "alice"}); err != nil {
		log.Fatal(err)
	}
	for _, token := range tokens {
		_, err := v.Validate(context.Background(), token)
		fmt.Println(errors.Is(err, bearer.ErrRevoked))
	}
	// Output:
	// true
	// false
}
