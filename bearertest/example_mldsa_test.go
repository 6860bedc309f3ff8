//go:build go1.27

package bearertest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// Built with Go 1.27 or later, the authority publishes an AKP key per
// ML-DSA parameter set (RFC 9964) and mints post-quantum access tokens
// that a Validator with the default Algorithms accepts.
func ExampleAuthority_TokenWith_mldsa() {
	a := bearertest.NewAuthority()
	defer a.Close()

	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	token := a.TokenWith("ML-DSA-65", nil, bearertest.Payload{"aud": "api", "sub": "pq-client"})
	c, err := v.Validate(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Subject, len(token) > 4096)
	// Output: pq-client true
}
