package bearer

// Authorities returns the issuer identifiers of the authorities whose
// tokens v accepts: today the one Config.Authority. Protected-resource
// metadata publishes them as authorization_servers (RFC 9728 §2). The
// slice is new on each call.
func (v *Validator) Authorities() []string {
	return []string{v.s.Authority}
}
