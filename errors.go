package bearer

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accesstoken/bearer/internal/refusal"
)

// The sentinel errors below, kinds and reasons, are matched with
// errors.Is. The text of each is the fixed phrase a client may be told
// (error_description); an *Error's Error adds the "bearer:" prefix.

// The kinds of failure. Every error returned by Validate is an *Error that
// matches exactly one of these with errors.Is; the kind decides the HTTP
// status and the RFC 6750 error code.
var (
	// ErrNoToken means the request carried no access token: 401 with a bare
	// challenge, as RFC 6750 §3.1 asks for requests without credentials.
	ErrNoToken = errors.New("no access token")
	// ErrInvalidRequest means the request presented its token wrongly (two
	// Authorization fields, a token in two places, …): 400 invalid_request.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrInvalidToken means the token is malformed, expired, revoked, not
	// for this API or not signed by the authority: 401 invalid_token.
	ErrInvalidToken = errors.New("invalid token")
	// ErrInsufficientScope means the token is valid but lacks the scopes
	// the resource requires: 403 insufficient_scope.
	ErrInsufficientScope = errors.New("insufficient scope")
	// ErrInsufficientUserAuthentication means the token is valid but the
	// user's sign-in does not meet the authentication context the
	// resource requires (ACR, MaxAge): 401 insufficient_user_authentication
	// with acr_values and max_age (RFC 9470 §3).
	ErrInsufficientUserAuthentication = errors.New("insufficient user authentication")
	// ErrUnavailable means the authority could not be reached and nothing
	// usable was cached: 503 with Retry-After. The token was not judged.
	ErrUnavailable = errors.New("authority unavailable")
)

// Reasons a token is invalid, for logs and metrics. Each is wrapped by an
// *Error that also matches ErrInvalidToken.
var (
	// ErrMalformed: not a compact JWS, bad base64url or JSON, wrong claim
	// types, or a required claim (exp) missing. A token that is not a JWS
	// is malformed too unless it is introspected (Config.ClientID).
	ErrMalformed = errors.New("malformed token")
	// ErrTooLarge: longer than Config.MaxTokenSize; rejected before parsing.
	ErrTooLarge = errors.New("token too large")
	// ErrAlgorithm: alg not in the allow-list, or not what the key is for.
	ErrAlgorithm = errors.New("algorithm not allowed")
	// ErrHeader: crit, jwk, jku, x5u or x5c in the header.
	ErrHeader = errors.New("forbidden header parameter")
	// ErrTokenType: typ names another kind of JWT (ID token, logout token, …).
	ErrTokenType = errors.New("token type not accepted")
	// ErrUnknownKey: no published key has the token's kid and fits its alg.
	ErrUnknownKey = errors.New("no matching signing key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("signature invalid")
	// ErrIssuer: iss is not the authority's issuer.
	ErrIssuer = errors.New("issuer mismatch")
	// ErrAudience: aud names none of the configured audiences.
	ErrAudience = errors.New("audience mismatch")
	// ErrExpired: exp is past (beyond the leeway).
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: nbf is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrIssuedInFuture: iat is in the future (beyond the leeway).
	ErrIssuedInFuture = errors.New("token issued in the future")
	// ErrInactive: the introspection endpoint says the token is not active.
	ErrInactive = errors.New("token not active")
	// ErrRevoked: the token was revoked (see Revocation), by a back-channel
	// logout or by the API itself.
	ErrRevoked = errors.New("token revoked")
	// ErrBinding: the token is bound to a key or a certificate (cnf) that
	// the request did not show: a DPoP-bound token presented as Bearer, a
	// certificate-bound one without that certificate.
	ErrBinding = errors.New("token binding not met")
	// ErrDPoPProof: the DPoP proof is missing, malformed, replayed or does
	// not match the request or the token (RFC 9449 §4.3):
	// invalid_dpop_proof.
	ErrDPoPProof = errors.New("invalid DPoP proof")
	// ErrDPoPNonce: the DPoP proof lacks a nonce this API issued, or its
	// nonce is stale (RFC 9449 §9): use_dpop_nonce.
	ErrDPoPNonce = errors.New("DPoP nonce required")
)

// reasons are the reasons above, which NewError accepts as kinds.
var reasons = []error{
	ErrMalformed, ErrTooLarge, ErrAlgorithm, ErrHeader, ErrTokenType, ErrUnknownKey, ErrSignature,
	ErrIssuer, ErrAudience, ErrExpired, ErrNotYetValid, ErrIssuedInFuture, ErrInactive,
	ErrRevoked, ErrBinding, ErrDPoPProof, ErrDPoPNonce,
}

// RFC 6750 §3.1 error codes.
const (
	codeInvalidRequest    = "invalid_request"
	codeInvalidToken      = "invalid_token"
	codeInsufficientScope = "insufficient_scope"
)

// Error is the one error type of this package. It carries what a response
// needs: the HTTP status, the RFC 6750 error code, a short description that
// never contains token material, the scopes a 403 asks for, the
// authentication a step-up 401 asks for and, for 503, when to try again.
type Error struct {
	// Status is the HTTP status to answer with.
	Status int
	// Code is the RFC 6750 error code; empty for a missing token (bare
	// challenge) and for an unavailable authority.
	Code string
	// Description is a short, fixed English phrase safe to send to clients.
	Description string
	// Scope lists, space-separated, the scopes an insufficient_scope
	// response asks for (and an insufficient_user_authentication one, when
	// scopes are missing too).
	Scope string
	// ACRValues lists, space-separated, the acr values an
	// insufficient_user_authentication response accepts (RFC 9470 §3).
	ACRValues string
	// MaxAge is the max_age of an insufficient_user_authentication
	// response, in whole seconds: how recent the user's sign-in must be.
	// Zero if the response names none.
	MaxAge time.Duration
	// RetryAfter is how long a client should wait after a 503.
	RetryAfter time.Duration
	// DPoPNonce is the nonce a client must put in its next DPoP proof
	// (RFC 9449 §9), sent in the DPoP-Nonce field; empty unless the
	// Validator issues nonces.
	DPoPNonce string

	kind      error
	cause     error
	challenge challengeSchemes // which schemes the challenges name; see Challenges
	algs      string           // the DPoP algorithms, for a DPoP challenge
}

// Error says each thing once: the kind, the description unless the kind
// already says it, the required scopes of a 403, and the cause unless the
// description already says it. For example "bearer: invalid token: token
// expired", "bearer: insufficient scope: want admin write" or "bearer:
// authority unavailable: JWKS: …".
func (e *Error) Error() string {
	msg := "bearer: " + e.kind.Error()
	if e.Description != "" && e.Description != e.kind.Error() {
		msg += ": " + e.Description
	}
	if want := e.wants(); want != "" {
		msg += ": want " + want
	}
	if e.cause != nil && !errors.Is(e.kind, e.cause) && e.cause.Error() != e.Description {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// wants says what a refusal asks for, for Error: the scopes, and the
// authentication context (acr urn:example:mfa, max_age 300).
func (e *Error) wants() string {
	want := e.Scope
	add := func(s string) {
		if want != "" {
			want += ", "
		}
		want += s
	}
	if e.ACRValues != "" {
		add("acr " + e.ACRValues)
	}
	if e.MaxAge > 0 {
		add("max_age " + e.maxAgeSeconds())
	}
	return want
}

// maxAgeSeconds is MaxAge as the max_age parameter carries it.
func (e *Error) maxAgeSeconds() string {
	return strconv.FormatInt(int64(e.MaxAge/time.Second), 10)
}

// Unwrap exposes the kind (ErrInvalidToken, …) and the underlying cause
// (ErrExpired, a network error, …) to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func errNoToken() *Error {
	return &Error{Status: http.StatusUnauthorized, Description: "no access token", kind: ErrNoToken}
}

func errInvalidRequest(description string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: description, kind: ErrInvalidRequest}
}

// errInvalidToken wraps a reason; the reason's text becomes the description,
// so reasons must be fixed phrases, never formatted with token content.
func errInvalidToken(reason error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: tokenErrorCode(reason), Description: reason.Error(), kind: ErrInvalidToken, cause: reason}
}

func errInsufficientScope(scope string) *Error {
	return &Error{Status: http.StatusForbidden, Code: codeInsufficientScope, Description: "insufficient scope", Scope: scope, kind: ErrInsufficientScope}
}

// errUnavailable keeps cause for logs; clients only see a fixed phrase.
func errUnavailable(cause error, retryAfter time.Duration) *Error {
	if retryAfter < time.Second {
		retryAfter = time.Second
	}
	// An unavailable authority met on the way (a key fetch during
	// discovery) is said once.
	if inner, ok := cause.(*Error); ok && inner.kind == ErrUnavailable {
		cause = inner.cause
	}
	return &Error{Status: http.StatusServiceUnavailable, Description: "authority unavailable", RetryAfter: retryAfter, kind: ErrUnavailable, cause: cause}
}

// NewError is for adapters and custom extractors: it builds the *Error
// of the given kind (one of ErrNoToken, ErrInvalidRequest, ErrInvalidToken,
// ErrInsufficientScope, ErrInsufficientUserAuthentication, ErrUnavailable)
// so that it renders like the
// package's own. kind may also be a reason (ErrMalformed, ErrExpired, …):
// the error is then invalid_token for that reason, described by it unless
// description says otherwise. The description must be a fixed phrase: it
// is sent to clients.
func NewError(kind error, description string) *Error {
	var e *Error
	switch {
	case kind == ErrNoToken:
		e = errNoToken()
	case kind == ErrInvalidRequest:
		e = errInvalidRequest(description)
	case kind == ErrInsufficientScope:
		e = errInsufficientScope("")
	case kind == ErrInsufficientUserAuthentication:
		e = errInsufficientUserAuthentication("", 0)
	case kind == ErrUnavailable:
		e = errUnavailable(nil, 0)
	case slices.Contains(reasons, kind):
		e = errInvalidToken(kind)
	default:
		e = errInvalidToken(ErrInvalidToken)
	}
	if description != "" {
		e.Description = description
	}
	return e
}

// AsError returns err as an *Error, and nil for nil. Errors of other
// types, which Validate never returns, count as an unavailable authority:
// the request fails closed without blaming the client's token.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errUnavailable(err, 0)
}

// WriteError writes the response for err: the status, a WWW-Authenticate
// challenge for realm (RFC 6750 §3), Retry-After for 503, and a small JSON
// body. Every adapter calls it, unless the application renders refusals
// itself (middleware.ErrorHandler), which changes only the body. A nil err
// fails closed, as an unavailable authority. params are added to the
// challenges (see Error.Challenges).
func WriteError(w http.ResponseWriter, realm string, err error, params ...ChallengeParam) {
	e := AsError(err)
	if e == nil {
		e = errUnavailable(nil, 0)
	}
	challenges := e.Challenges(realm, params...)
	refusal.SetHeaders(w.Header(), e.Status, challenges[0], e.RetryAfter)
	refusal.AddDPoP(w.Header(), e.Status, challenges[1:], e.DPoPNonce)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	body, _ := json.Marshal(struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description,omitempty"`
		Scope       string `json:"scope,omitempty"`
		ACRValues   string `json:"acr_values,omitempty"`
		MaxAge      int64  `json:"max_age,omitempty"`
	}{e.Code, quotable(e.Description), e.Scope, quotable(e.ACRValues), int64(e.MaxAge / time.Second)})
	_, _ = w.Write(append(body, '\n'))
}

// render writes the challenge of scheme for e; algs, if set, comes first
// (DPoP's list of proof algorithms).
func (e *Error) render(scheme, algs, realm string, params []ChallengeParam) string {
	var b strings.Builder
	b.WriteString(scheme)
	sep := " "
	param := func(name, value string) {
		if value == "" {
			return
		}
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quotable(value))
		b.WriteString(`"`)
		sep = ", "
	}
	param("algs", algs)
	param("realm", realm)
	param("error", e.Code)
	if e.Code != "" {
		param("error_description", e.Description)
	}
	param("scope", e.Scope)
	param("acr_values", e.ACRValues)
	if e.MaxAge > 0 {
		param("max_age", e.maxAgeSeconds())
	}
	for _, p := range params {
		param(p.name, p.value)
	}
	return b.String()
}

// quotable keeps only the characters RFC 6750 §3 allows in error,
// error_description and scope values (%x20-21 / %x23-5B / %x5D-7E), so no
// value can break out of its quoted string.
func quotable(s string) string {
	ok := func(r rune) bool { return r >= 0x20 && r <= 0x7e && r != '"' && r != '\\' }
	for _, r := range s {
		if !ok(r) {
			return strings.Map(func(r rune) rune {
				if ok(r) {
					return r
				}
				return -1
			}, s)
		}
	}
	return s
}

// joinErrors is errors.Join on one line: errors.Is and errors.As see each
// of errs, and the message joins theirs with "; " where errors.Join puts a
// newline, which would break a log line or a message printed at start-up.
// nil errors are dropped; it returns nil if every one is, and the error
// itself if only one is left.
func joinErrors(errs ...error) error {
	errs = slices.DeleteFunc(slices.Clone(errs), func(err error) bool { return err == nil })
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return joined(errs)
}

// joined is joinErrors's error.
type joined []error

func (j joined) Error() string {
	msgs := make([]string, len(j))
	for i, err := range j {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j joined) Unwrap() []error { return j }
