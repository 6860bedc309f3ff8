package main

import (
	"context"
	"fmt"
	"io"

	"github.com/accesstoken/bearer/bearertest"
)

// serveAuthority is -authority-only: the embedded test authority alone, at
// a fixed address, so that several replicas started with -authority trust
// the same one (docs/replicas.md). It prints the flags a replica needs and
// a token for them, then serves until ctx ends.
func serveAuthority(ctx context.Context, addr, clientID, clientSecret, scopes string, stdout io.Writer) error {
	a, err := authorityAt(addr)
	if err != nil {
		return err
	}
	defer a.Close()
	if clientID == "" {
		clientID, clientSecret = bearertest.DefaultClientID, bearertest.DefaultClientSecret
	}
	a.SetClient(clientID, clientSecret)

	fmt.Fprintf(stdout, "test authority at %s, and nothing else (-authority-only)\n", a.Issuer())
	fmt.Fprintf(stdout, "the README's quickstart trusts it with AUTHORITY=%s\n", a.Issuer())
	fmt.Fprintf(stdout, "start examples/api, or each replica of docs/replicas.md, with:\n  -authority %s -client-id %s -client-secret %s\n", a.Issuer(), quote(clientID), quote(clientSecret))
	fmt.Fprintf(stdout, "a token they accept (audience api, scope %s, valid for an hour), to paste into a shell:\n", quote(scopes))
	fmt.Fprintf(stdout, "export TOKEN=%s\n", a.Token(bearertest.Payload{"aud": "api", "scope": scopes}))
	fmt.Fprintf(stdout, "listening on %s\n", a.URL)
	<-ctx.Done()
	return nil
}

// authorityAt starts the test authority on addr. bearertest.NewAuthority
// panics when it cannot listen, as httptest.NewServer does; a busy port
// is an ordinary mistake here, so it becomes an error.
func authorityAt(addr string) (a *bearertest.Authority, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("-authority-only: %v", p)
		}
	}()
	return bearertest.NewAuthority(bearertest.WithAddr(addr)), nil
}
