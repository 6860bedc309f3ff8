package bearertest

import (
	"bytes"
	"fmt"
	"time"
)

// Endpoint names one of the authority's HTTP endpoints, for fault injection
// and hit counting.
type Endpoint string

// The authority's endpoints.
const (
	Discovery     Endpoint = "discovery"     // issuer + "/.well-known/openid-configuration"
	Metadata      Endpoint = "metadata"      // RFC 8414 "/.well-known/oauth-authorization-server" + issuer path
	JWKS          Endpoint = "jwks"          // jwks_uri: issuer + "/jwks"
	Introspection Endpoint = "introspection" // issuer + "/introspect" (RFC 7662)
)

// fault is what has been injected into one endpoint.
type fault struct {
	delay  time.Duration
	status int
	body   []byte
}

func checkEndpoint(e Endpoint) {
	switch e {
	case Discovery, Metadata, JWKS, Introspection:
	default:
		panic(fmt.Sprintf("bearertest: unknown endpoint %q", e))
	}
}

func (a *Authority) setFault(e Endpoint, change func(*fault)) {
	checkEndpoint(e)
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.faults[e]
	change(&f)
	a.faults[e] = f
}

// SetDelay makes e wait d before answering, to simulate a slow authority; 0
// removes the delay. A waiting request gives up, without answering, when its
// context is done or the authority is closed. A delay combines with the other
// faults of e.
func (a *Authority) SetDelay(e Endpoint, d time.Duration) {
	a.setFault(e, func(f *fault) { f.delay = d })
}

// SetStatus makes e answer with status code and a short text body; 0 restores
// normal answers. It takes precedence over SetBody.
func (a *Authority) SetStatus(e Endpoint, code int) {
	a.setFault(e, func(f *fault) { f.status = code })
}

// SetBody makes e answer 200 with body verbatim (as application/json), to
// serve garbage, truncated or huge documents; nil restores normal answers.
// The authority keeps its own copy of body.
func (a *Authority) SetBody(e Endpoint, body []byte) {
	body = bytes.Clone(body)
	a.setFault(e, func(f *fault) { f.body = body })
}

// SetDiscovery makes both discovery documents (Discovery and Metadata) pass
// through edit before they are served, to change or delete members such as
// jwks_uri or issuer. edit gets a fresh document each time; list members are
// []string. nil restores the normal documents.
func (a *Authority) SetDiscovery(edit func(doc map[string]any)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.edit = edit
}

// SetDown makes every endpoint answer 503 at once while down is true, leaving
// the other faults in place for when it comes back up.
func (a *Authority) SetDown(down bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.down = down
}

// Hits returns how many requests e has received since the start or the last
// ResetHits, including those answered with an injected fault, so tests can
// check caching and refresh behaviour.
func (a *Authority) Hits(e Endpoint) int {
	checkEndpoint(e)
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits[e]
}

// ResetHits sets every endpoint's hit count to zero.
func (a *Authority) ResetHits() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.hits)
}
