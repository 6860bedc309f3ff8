package bearer

import "slices"

// Authorities returns the issuer identifiers of the authorities whose
// tokens v accepts: the one Config.Authority, or for NewMulti the
// configured MultiConfig.Authorities in order (tenants a resolver admits
// are not listed). Protected-resource metadata publishes them as
// authorization_servers (RFC 9728 §2). The slice is new on each call.
func (v *Validator) Authorities() []string {
	return slices.Clone(v.order)
}
