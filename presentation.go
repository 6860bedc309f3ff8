package bearer

import (
	"crypto/x509"

	"github.com/accesstoken/bearer/internal/alphabet"
)

// Presentation is an access token as a request presented it: what
// sender-constrained tokens are checked against. The middleware fills it
// in from the request; other transports fill in what they have.
type Presentation struct {
	// Scheme is the Authorization scheme, "Bearer" or "DPoP" in any case;
	// "" means Bearer (a token from a query, form or cookie). A token under
	// either scheme came from an Authorization field, whose syntax is
	// b64token (RFC 6750 §2.1): the Validator refuses one outside it as
	// malformed, after Err and before any other refusal.
	Scheme string
	// Token is the access token.
	Token string
	// DPoP holds the values of the request's DPoP header fields: exactly
	// one proof is accepted.
	DPoP []string
	// Method is the request's method, which a proof's htm must equal.
	Method string
	// URL is the absolute URL the client sent the request to (scheme,
	// host, path; a query is ignored), which a proof's htu must equal.
	// With DPoPConfig.Origins only its path is read.
	URL string
	// ClientCertificate is the request's TLS client certificate, for
	// certificate-bound tokens (RFC 8705 §3); nil if none.
	ClientCertificate *x509.Certificate
	// Require lists requirements of the route, checked after
	// Config.RequiredScopes and after the binding, so that a refusal names
	// the scheme the request used.
	Require []Requirement
	// Err is a refusal the transport decided before the token could be
	// read (two Authorization fields, a token sent two ways, malformed
	// credentials). ValidatePresentation returns it, with the challenges
	// of its DPoP mode: an API that requires DPoP names DPoP in every
	// refusal (RFC 9449 §7.1); and reports it to Config.Observer, so that
	// every refusal is counted.
	Err error
}

// presented is the presentation stage: it refuses a request whose scheme,
// token and proofs do not go together under the Validator's DPoP mode,
// before the token is read. It returns the DPoP settings the refusals of
// the next stages carry until the token names its authority, whether the
// request used the DPoP scheme, and whether the token's b64token syntax is
// still to be checked: that of a Bearer token from an Authorization field
// is checked only when the token is not cached (verify), since a cached
// token passed a stricter check, the JWS shape, and the check of a 600-byte
// token was a quarter of what the middleware adds to a cached one. Every
// refusal here still puts a malformed token's first, after Err.
func (v *Validator) presented(p *Presentation) (d *dpopSettings, dpop, syntax bool, err error) {
	d = v.dpop
	dpop = alphabet.IsScheme(p.Scheme, "DPoP")
	syntax = isBearerField(p)
	if p.Err != nil {
		return d, dpop, syntax, d.refuse(p.Err, dpop)
	}
	if err := d.presentedWith(p, dpop); err != nil {
		if syntax && !alphabet.IsB64Token(p.Token) {
			return d, dpop, syntax, d.refuse(errInvalidToken(ErrMalformed), false)
		}
		return d, dpop, syntax, err
	}
	return d, dpop, syntax, nil
}

// presentedWith applies d's rules to how p presents its token.
func (d *dpopSettings) presentedWith(p *Presentation, dpop bool) error {
	switch {
	case dpop && d.mode == DPoPDisabled:
		return errNoToken()
	case !dpop && p.Scheme != "" && !alphabet.IsScheme(p.Scheme, "Bearer"):
		return d.refuse(errInvalidRequest("unknown authorization scheme"), false)
	case dpop && p.Token != "" && !alphabet.IsB64Token(p.Token):
		return d.refuse(errInvalidToken(ErrMalformed), true)
	case !dpop && d.mode == DPoPRequired:
		if p.Token == "" {
			return d.refuse(errNoToken(), true)
		}
		return d.refuse(errBinding("DPoP required"), true)
	case dpop && len(p.DPoP) != 1:
		// §4.3 point 1: one DPoP field, holding one proof.
		return d.refuse(errDPoPProof("not exactly one DPoP proof"), true)
	case !dpop && len(p.DPoP) > 0 && d.mode != DPoPDisabled:
		// A proof with a Bearer token: the client means DPoP, but the
		// scheme says otherwise (§7.2).
		return d.refuse(errInvalidRequest("DPoP proof with a Bearer token"), false)
	}
	return nil
}

// isBearerField reports whether p's token came from an Authorization field
// under the Bearer scheme, where it must be a b64token.
func isBearerField(p *Presentation) bool {
	return p.Token != "" && alphabet.IsScheme(p.Scheme, "Bearer")
}
