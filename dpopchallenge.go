package bearer

// challengeSchemes says which schemes a refusal's challenges name, the
// first carrying the error.
type challengeSchemes uint8

const (
	challengeBearer         challengeSchemes = iota // Bearer alone, as RFC 6750 has it
	challengeBearerThenDPoP                         // a Bearer request, where DPoP is accepted too
	challengeDPoPThenBearer                         // a DPoP request, where Bearer is accepted too
	challengeDPoP                                   // DPoP alone (DPoPRequired)
)

// Error codes of RFC 9449 §7.1 and §9.
const (
	codeInvalidDPoPProof = "invalid_dpop_proof"
	codeUseDPoPNonce     = "use_dpop_nonce"
)

// tokenErrorCode is the error code of a 401 for reason.
func tokenErrorCode(reason error) string {
	switch reason {
	case ErrDPoPProof:
		return codeInvalidDPoPProof
	case ErrDPoPNonce:
		return codeUseDPoPNonce
	}
	return codeInvalidToken
}

func errDPoPProof(description string) *Error {
	e := errInvalidToken(ErrDPoPProof)
	e.Description = description
	return e
}

func errBinding(description string) *Error {
	e := errInvalidToken(ErrBinding)
	e.Description = description
	return e
}

// copy returns a copy of e, to change without changing an error someone
// else holds.
func (e *Error) copy() *Error {
	c := *e
	return &c
}

// Challenges returns the WWW-Authenticate values for e, one field each:
// for a Bearer API one, for example
//
//	Bearer realm="api", error="invalid_token", error_description="token expired"
//
// Where DPoP is accepted (RFC 9449 §7.1), the challenge of the scheme the
// request used comes first and carries the error, for example
//
//	DPoP algs="ES256 EdDSA", realm="api", error="invalid_dpop_proof", error_description="DPoP proof replayed"
//	Bearer realm="api"
//
// params, such as ResourceMetadata, are added to each, in their order.
func (e *Error) Challenges(realm string, params ...ChallengeParam) []string {
	var bare Error
	switch e.challenge {
	case challengeBearerThenDPoP:
		return []string{e.render("Bearer", "", realm, params), bare.render("DPoP", e.algs, realm, params)}
	case challengeDPoPThenBearer:
		return []string{e.render("DPoP", e.algs, realm, params), bare.render("Bearer", "", realm, params)}
	case challengeDPoP:
		return []string{e.render("DPoP", e.algs, realm, params)}
	}
	return []string{e.render("Bearer", "", realm, params)}
}
