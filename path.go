package bearer

import (
	"context"
	"time"
)

// Validate validates token and checks Config.RequiredScopes. On failure the
// error is an *Error that matches one of ErrNoToken, ErrInvalidToken,
// ErrInsufficientScope or ErrUnavailable with errors.Is. A token bound to
// a DPoP key or a client certificate (cnf) is refused (ErrBinding): its
// binding can only be checked with ValidatePresentation.
func (v *Validator) Validate(ctx context.Context, token string) (*Claims, error) {
	return v.ValidatePresentation(ctx, Presentation{Token: token})
}

// ValidatePresentation validates p.Token as Validate does, then the way it
// was presented: a DPoP proof (RFC 9449 §4.3, §7) for the DPoP scheme or a
// DPoP-bound token, a client certificate for a certificate-bound token
// (RFC 8705 §3). Refusals of a DPoP request carry the DPoP challenge (see
// Error.Challenges) and, with nonces on, a nonce in Error.DPoPNonce.
func (v *Validator) ValidatePresentation(ctx context.Context, p Presentation) (*Claims, error) {
	if v.obs != nil {
		return v.observed(ctx, p)
	}
	c, _, err := v.check(ctx, &p)
	return c, err
}

// check is the path of a token, stage by stage, in the order the package
// doc lists them; it also says where the answer came from, for an
// Observer. Until the token names its authority, refusals carry the
// challenges of the Validator's DPoP settings; then those of the
// authority's.
func (v *Validator) check(ctx context.Context, p *Presentation) (*Claims, string, error) {
	// presentation (presentation.go)
	d, dpop, syntax, err := v.presented(p)
	if err != nil {
		return nil, sourceNone, err
	}
	// The time of the cache lookup is the time requirements are judged
	// at: a clock reading is not free (hundreds of ns on some VMs), and a
	// cache hit needs only this one.
	now := time.Now()
	// authority (route.go), verify: cache, JWS or introspection (verification.go)
	c, a, source, err := v.verify(ctx, p.Token, syntax, now)
	if err != nil {
		return nil, source, d.refuse(err, dpop)
	}
	// binding (binding.go)
	if err := a.bind(ctx, c, p, dpop, d); err != nil {
		return nil, source, err
	}
	// revocation (revocation.go)
	if err := v.checkRevoked(a, p.Token, c); err != nil {
		return nil, source, a.dpop.refuse(err, dpop)
	}
	// requirements (scopes.go)
	if err := a.require(c, p.Require, now); err != nil {
		return nil, source, a.dpop.refuse(err, dpop)
	}
	return c, source, nil
}
