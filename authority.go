package bearer

import (
	"context"
	"sync"
	"sync/atomic"
)

// authority is what a Validator knows of one authority: its Config, its
// discovery and keys (provider.go), its introspection endpoint, its DPoP
// settings, and the revocations of its issuer, which the Validator keeps
// and which outlive it. It is cheap and disposable: a resolved one is
// closed to make room and made again at will.
type authority struct {
	s           *settings
	p           *provider
	in          *Introspector // nil unless reference tokens are introspected
	dpop        *dpopSettings
	revocations *revocationIndex // its issuer's (see revocationissuers.go)
	// lease is set for an authority Resolve admitted, nil for a fixed one.
	lease *lease
	// headers are those of its access tokens that verified (headermemo.go).
	headers headerMemo

	noIntrospection sync.Once // notes the first token refused for want of a ClientID to introspect it
}

// lease is what a Validator of several authorities tracks of a resolved
// one: when it was last used, whether it has verified a token, and
// whether it was closed to make room (its cached tokens are then judged
// again by the issuer's current authority).
type lease struct {
	used    atomic.Int64
	proven  atomic.Bool
	evicted atomic.Bool
}

// newAuthority starts the authority s configures, whose issuer's
// revocations are st's; its DPoP proofs are remembered in replay. Its
// background work ends with close or ctx.
func newAuthority(ctx context.Context, s *settings, replay seenStore, st *issuerState) (*authority, error) {
	d, err := s.DPoP.settings(s.leeway, replay)
	if err != nil {
		return nil, err
	}
	p, err := newProvider(ctx, s)
	if err != nil {
		return nil, err
	}
	a := &authority{s: s, p: p, dpop: d, revocations: st.revocations}
	a.startIntrospection()
	return a, nil
}

// close stops a's background work and waits for it.
func (a *authority) close() {
	a.stopIntrospection()
	a.p.close()
	if a.s.ownClient {
		// Idle keep-alive connections would otherwise keep two goroutines
		// each alive for the transport's IdleConnTimeout.
		a.s.HTTPClient.CloseIdleConnections()
	}
}
