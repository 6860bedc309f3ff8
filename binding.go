package bearer

import (
	"context"
	"encoding/json"
)

// bind is the binding stage: the request may present c, which a
// accepted, only under a's DPoP mode, and a token bound by cnf only with
// the DPoP proof (RFC 9449 §7) or the client certificate (RFC 8705 §3) it
// is bound to. d is the presentation's DPoP settings; the refusals here
// carry a's.
func (a *authority) bind(ctx context.Context, c *Claims, p *Presentation, dpop bool, d *dpopSettings) error {
	if d != a.dpop {
		// Several authorities: the token named its own, whose mode rules.
		d = a.dpop
		switch {
		case dpop && d.mode == DPoPDisabled:
			return errNoToken()
		case !dpop && d.mode == DPoPRequired:
			return d.refuse(errBinding("DPoP required"), true)
		}
	}
	if !dpop && c.Confirmation == nil && !c.dpopType {
		return nil // a Bearer token bound to nothing: most requests
	}
	cnf, err := readConfirmation(c)
	if err != nil {
		return d.refuse(err, dpop)
	}
	if err := checkCertificate(cnf, p.ClientCertificate); err != nil {
		return d.refuse(err, dpop)
	}
	if !dpop {
		if cnf.jkt != "" || cnf.dpopType {
			// §7.2: a DPoP-bound token is refused as a Bearer token, with
			// the DPoP challenge alongside to say what would work.
			return d.refuse(errBinding("DPoP-bound token presented as Bearer"), false, true)
		}
	} else if err := d.checkProof(ctx, *p, cnf); err != nil {
		return d.refuse(err, true)
	}
	return nil
}

// confirmation is what a token's cnf (RFC 7800) binds it to.
type confirmation struct {
	jkt      string // RFC 9449 §6: the SHA-256 thumbprint of the DPoP key
	x5t      string // RFC 8705 §3.1: x5t#S256, the certificate's SHA-256 thumbprint
	dpopType bool   // an introspection answer's token_type is DPoP
}

// readConfirmation reads c's cnf. A cnf that is not an object, or whose
// jkt or x5t#S256 is not a string, binds the token to nothing anyone could
// show: it is refused rather than ignored.
func readConfirmation(c *Claims) (confirmation, error) {
	if c.Confirmation == nil {
		// Most tokens: nothing to read, and nothing allocated on the way.
		return confirmation{dpopType: c.dpopType}, nil
	}
	return parseConfirmation(c)
}

func parseConfirmation(c *Claims) (confirmation, error) {
	cnf := confirmation{dpopType: c.dpopType}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(c.Confirmation, &m); err != nil {
		return cnf, errInvalidToken(ErrMalformed)
	}
	for name, dst := range map[string]*string{"jkt": &cnf.jkt, "x5t#S256": &cnf.x5t} {
		if raw, ok := m[name]; ok {
			if err := json.Unmarshal(raw, dst); err != nil || *dst == "" {
				return cnf, errInvalidToken(ErrMalformed)
			}
		}
	}
	return cnf, nil
}
