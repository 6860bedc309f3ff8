package bearer

import (
	"errors"
	"net/http"
)

// Predicate requires that f, given the token's validated claims, reports
// true: a rule that scopes cannot say, such as "a payment_initiation
// detail of at most 500 EUR" (see Claims.AuthorizationDetails) or "roles
// contains admin" (see Claims.Decode). It composes with scopes and
// step-up in AllOf and AnyOf. A nil f requires nothing.
//
// f runs after the token was validated, on every request the requirement
// guards, and may run more than once for a request that is refused: it
// must be safe for concurrent use, quick, and without side effects, and
// must not keep c.
//
// When f reports false the request is refused with 403
// insufficient_scope, described as "insufficient privileges" and with no
// scope parameter: what f looks for is the API's policy, not the
// client's business. In a combination the refusal names only the scopes
// (and step-up) of the other unmet parts, the needs a client can meet.
func Predicate(f func(c *Claims) bool) Requirement {
	if f == nil {
		return Requirement{}
	}
	return Requirement{kind: requirePredicate, pred: f}
}

// errPredicate is the cause of a refusal by a Predicate, an ActedBy or a
// MaxDelegation, for logs (Error's text); the client is told only
// "insufficient privileges".
var errPredicate = errors.New("a requirement on the token's claims is not met")

// errInsufficientPrivileges is the refusal of an unmet Predicate: 403
// insufficient_scope that names no scope and nothing of the predicate.
func errInsufficientPrivileges() *Error {
	return &Error{Status: http.StatusForbidden, Code: codeInsufficientScope, Description: "insufficient privileges", kind: ErrInsufficientScope, cause: errPredicate}
}
