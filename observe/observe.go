// Package observe is what a bearer.Validator or bearer.Introspector tells
// an Observer, set in bearer.Config.Observer, for metrics and traces: each
// validation, each fetch of the authority's metadata or keys, each call to
// the introspection endpoint. The module
// github.com/accesstoken/bearer/adapters/otel turns them into OpenTelemetry
// metrics and spans.
package observe

import (
	"context"
	"time"
)

// Observer is told what a bearer.Validator or a bearer.Introspector does,
// for metrics and traces (github.com/accesstoken/bearer/adapters/otel turns
// it into OpenTelemetry): each validation, each fetch of the authority's
// metadata or keys, each introspection call. Set it in
// bearer.Config.Observer; when it is nil nothing is measured and nothing is
// allocated for it.
//
// Its methods are called synchronously, on the request path for Validated:
// they must be quick and must not block. The events carry no token, no
// claim and no URL, so that nothing a client chose ends up as a label.
type Observer interface {
	// Validated is called at the end of each bearer.Validator.Validate or
	// ValidatePresentation, with the request's ctx. A Validator of several
	// authorities reports to bearer.MultiConfig.Observer, once per
	// validation.
	Validated(ctx context.Context, v Validation)
	// Refreshed is called when a fetch of the discovery document or of the
	// JWK Set ends. ctx carries the values (a trace span, say) of the
	// request that caused the fetch, if one did, but never its deadline:
	// the fetch ran on its own.
	Refreshed(ctx context.Context, r Refresh)
	// Introspected is called when a call to the introspection endpoint
	// ends; answers from the cache make no call. ctx carries the values of
	// the request that caused the call, as for Refreshed.
	Introspected(ctx context.Context, c IntrospectionCall)
}

// Validation describes one bearer.Validator.Validate or
// ValidatePresentation.
type Validation struct {
	// Format is "jwt" for a token shaped like a JWS, "opaque" for any other
	// (a reference token), and empty when there was no token, or when the
	// request was refused before its token was read
	// (bearer.Presentation.Err).
	Format string
	// Scheme is "DPoP" for a token presented with the DPoP scheme (RFC
	// 9449), whatever its case, and "Bearer" for any other.
	Scheme string
	// Source is where the answer came from: "cache" (a JWT validated
	// before, or a cached introspection answer), "local" (the signature and
	// claims checked here) or "introspection" (the endpoint asked, or a
	// call under way for the same token joined). Empty when the token was
	// refused before either: absent, too large, presented wrongly
	// (bearer.Presentation.Err) or, with several authorities, naming none.
	Source string
	// Err is nil on success, else the *bearer.Error Validate returned.
	Err error
	// Start is when Validate began; Duration how long it took.
	Start    time.Time
	Duration time.Duration
}

// Refresh describes one fetch of the authority's discovery document or JWK
// Set.
type Refresh struct {
	// Document is "discovery" or "jwks".
	Document string
	// Trigger is what caused the fetch: "start" (the first attempt, and the
	// key set fetched with the metadata), "retry" (discovery again after a
	// failure), "request" (a request waiting for discovery), "interval"
	// (the background refresh of the keys), "unknown_kid" (a token signed
	// with a key not yet known) or "stale" (a token refused because the
	// keys grew older than bearer.Config.MaxKeySetAge while fetches
	// failed).
	Trigger string
	// Err is nil if the fetch succeeded. A failed fetch of the keys leaves
	// the last good ones in use.
	Err error
	// Keys is the number of usable keys a successful JWK Set fetch found.
	Keys int
	// Skipped counts by reason the keys of a JWK Set left out because
	// they cannot verify an access token here. It is set only by a fetch
	// that found the set changed (the first one, for instance), so that
	// summing it over fetches counts each odd key once per change of the
	// set; nil for a set as before and for a set with no odd key. The
	// reasons (a key gets one):
	//   - "malformed": not a JWK (members missing, of the wrong type, or
	//     not decoding), or an x5c certificate that does not match it
	//   - "symmetric_key": kty "oct", a secret no public set should hold
	//   - "unsupported_key_type": a kty other than RSA, EC, OKP and AKP
	//   - "unsupported_curve": EC on a curve other than P-256, P-384 and
	//     P-521 (secp256k1, say), OKP other than Ed25519 (Ed448, X25519)
	//   - "encryption_key": use "enc" (or another than "sig"), key_ops
	//     without "verify", or a JWE algorithm such as RSA-OAEP
	//   - "unsupported_algorithm": an alg this library does not verify
	//     (ES256K, say) or that does not fit the key, or an ML-DSA key
	//     (kty AKP) where this build cannot verify ML-DSA
	//   - "weak_key": RSA under 2048 bits
	// A set that changes often is logged and counted again each time.
	Skipped map[string]int
	// Start is when the fetch began; Duration how long it took.
	Start    time.Time
	Duration time.Duration
}

// IntrospectionCall describes one request to the introspection endpoint.
type IntrospectionCall struct {
	// Active is the endpoint's answer, when Err is nil.
	Active bool
	// Err is nil if an answer was had; else the *bearer.Error
	// (bearer.ErrUnavailable) the callers got.
	Err error
	// Start is when the call began; Duration how long it took.
	Start    time.Time
	Duration time.Duration
}
