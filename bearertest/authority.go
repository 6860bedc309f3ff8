// Package bearertest provides an in-process OAuth 2.0 authority for testing
// code that validates access tokens.
//
// An [Authority] is a loopback HTTP server, started like a
// [net/http/httptest.Server], that publishes a discovery document (both the
// OpenID Connect and the RFC 8414 forms) and a JWKS, mints signed access
// tokens with its keys (or, for HS256/384/512, its SharedSecret), answers
// an RFC 7662 introspection endpoint about them and about reference tokens,
// mints back-channel logout tokens and posts them as an authority signing a
// user out does (LogoutToken, PostLogout), and can be told to misbehave
// (slow, failing, garbled
// or down endpoints) so that tests can check how a validator copes with a real
// authority's failure modes without leaving the process. A [Transmitter]
// is an OpenID Shared Signals transmitter, for receivers (package signals):
// streams, verification, push and poll delivery of the SETs it mints.
//
// It is meant for tests and for example programs; it is not a secure
// authorization server.
package bearertest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Authority is a test OAuth 2.0 authority listening on a loopback address.
// All of its methods are safe for concurrent use, including while the server
// is answering requests.
type Authority struct {
	// URL is the base URL of the server, of the form http://127.0.0.1:port,
	// with no trailing slash. The issuer is URL followed by the path given
	// with WithPath, unless WithIssuer overrides it.
	URL string

	path   string // issuer path: "" or "/tenant1"
	issuer string // published issuer
	openid bool   // serve /.well-known/openid-configuration

	srv       *httptest.Server
	done      chan struct{} // closed by Close to cut injected delays short
	closeOnce sync.Once

	mu        sync.Mutex
	current   map[string]*signingKey // alg → key used for new tokens
	published []publishedKey         // JWKS "keys", in publication order
	faults    map[Endpoint]fault
	down      bool
	edit      func(doc map[string]any)
	hits      map[Endpoint]int

	intro introspection // reference tokens, revocations, the API client
}

// NewAuthority starts an authority on 127.0.0.1 and returns it. The caller
// must call Close when finished with it. Like httptest.NewServer, it panics
// if the server cannot be started; it needs no *testing.T so that ordinary
// programs can embed an authority too.
func NewAuthority(opts ...Option) *Authority {
	a, err := newAuthority(opts)
	if err != nil {
		panic("bearertest: " + err.Error())
	}
	return a
}

// New is NewAuthority for tests: it fails tb instead of panicking and
// registers Close with tb.Cleanup.
func New(tb testing.TB, opts ...Option) *Authority {
	tb.Helper()
	a, err := newAuthority(opts)
	if err != nil {
		tb.Fatalf("bearertest: %v", err)
	}
	tb.Cleanup(a.Close)
	return a
}

func newAuthority(opts []Option) (*Authority, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	a := &Authority{
		path:   o.path,
		openid: !o.noOpenID,
		done:   make(chan struct{}),
		faults: make(map[Endpoint]fault),
		hits:   make(map[Endpoint]int),
	}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serveHTTP))
	if o.addr != "" {
		l, err := listenLoopback(o.addr)
		if err != nil {
			a.srv.Close()
			return nil, err
		}
		a.srv.Listener.Close()
		a.srv.Listener = l
	}
	if err := a.initKeys(); err != nil {
		a.srv.Close()
		return nil, err
	}
	// Everything the handler reads is set before the server starts.
	a.URL = "http://" + a.srv.Listener.Addr().String()
	a.issuer = a.URL + a.path
	if o.issuer != "" {
		a.issuer = o.issuer
	}
	a.srv.Start()
	return a, nil
}

// listenLoopback listens on addr, refusing anything but a loopback IP so that
// a test authority is never reachable from outside the machine.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("WithAddr(%q): %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("WithAddr(%q): not a loopback IP address", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("WithAddr(%q): %v", addr, err)
	}
	return l, nil
}

// Close shuts the server down, cutting short any injected delay, and waits
// for outstanding requests to finish. It may be called more than once.
func (a *Authority) Close() {
	a.closeOnce.Do(func() {
		close(a.done)
		a.srv.Close()
	})
}

// Issuer returns the issuer the authority publishes in its discovery
// document and puts in the iss claim of the tokens it mints.
func (a *Authority) Issuer() string { return a.issuer }

// JWKSURL returns the jwks_uri published in the discovery document.
func (a *Authority) JWKSURL() string { return a.URL + a.path + "/jwks" }
