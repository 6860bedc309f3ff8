package otelbearer

import (
	"context"
	"errors"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/observe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Validated records a validation: its duration, a cache lookup, and a
// span if the request's own span is sampled.
func (o *Observer) Validated(ctx context.Context, v observe.Validation) {
	res, errType := validationResult(v.Err)
	attrs := make([]attribute.KeyValue, 0, 5)
	if v.Format != "" {
		attrs = append(attrs, keyFormat.String(v.Format))
	}
	attrs = append(attrs, keyScheme.String(scheme(v.Scheme)))
	if v.Source != "" {
		attrs = append(attrs, keySource.String(v.Source))
	}
	attrs = append(attrs, keyResult.String(res))
	if errType != "" {
		attrs = append(attrs, keyError.String(errType))
	}
	o.validation.Record(ctx, v.Duration.Seconds(), metric.WithAttributes(attrs...))
	if v.Source != "" {
		hit := "miss"
		if v.Source == "cache" {
			hit = "hit"
		}
		o.lookups.Add(ctx, 1, metric.WithAttributes(keyFormat.String(v.Format), keyCache.String(hit)))
	}
	o.validationSpan(ctx, v, attrs, errType)
}

// Refreshed records a fetch of the discovery document or the JWK Set,
// and its span, linked to the request that caused it.
func (o *Observer) Refreshed(ctx context.Context, r observe.Refresh) {
	attrs := []attribute.KeyValue{keyDocument.String(r.Document), keyTrigger.String(r.Trigger), keyResult.String(outcome(r.Err))}
	if r.Err != nil {
		attrs = append(attrs, keyError.String(failureType(r.Err)))
	}
	o.refresh.Record(ctx, r.Duration.Seconds(), metric.WithAttributes(attrs...))
	// The reasons are the core's closed set (observe.Refresh.Skipped).
	for reason, n := range r.Skipped {
		o.skipped.Add(ctx, int64(n), metric.WithAttributes(keySkip.String(reason)))
	}
	o.backgroundSpan(ctx, "bearer.refresh", r.Start, r.Duration, r.Err, attrs)
}

// Introspected records a call to the introspection endpoint, and its
// span, linked to the request that caused it.
func (o *Observer) Introspected(ctx context.Context, c observe.IntrospectionCall) {
	res := "active"
	switch {
	case c.Err != nil:
		res = "failure"
	case !c.Active:
		res = "inactive"
	}
	attrs := []attribute.KeyValue{keyResult.String(res)}
	if c.Err != nil {
		attrs = append(attrs, keyError.String(failureType(c.Err)))
	}
	o.introspection.Record(ctx, c.Duration.Seconds(), metric.WithAttributes(attrs...))
	o.backgroundSpan(ctx, "bearer.introspect", c.Start, c.Duration, c.Err, attrs)
}

// named is an error of the core and its name in an attribute.
type named struct {
	err  error
	name string
}

// kinds are the results of a validation, as the RFC 6750 error codes
// name them where they can.
var kinds = []named{
	{bearer.ErrNoToken, "no_token"},
	{bearer.ErrInvalidRequest, "invalid_request"},
	{bearer.ErrInvalidToken, "invalid_token"},
	{bearer.ErrInsufficientScope, "insufficient_scope"},
	{bearer.ErrInsufficientUserAuthentication, "insufficient_user_authentication"},
	{bearer.ErrUnavailable, "unavailable"},
}

// reasons name why a token is invalid, for error.type.
var reasons = []named{
	{bearer.ErrMalformed, "malformed"},
	{bearer.ErrTooLarge, "too_large"},
	{bearer.ErrAlgorithm, "algorithm"},
	{bearer.ErrHeader, "header"},
	{bearer.ErrTokenType, "token_type"},
	{bearer.ErrUnknownKey, "unknown_key"},
	{bearer.ErrSignature, "signature"},
	{bearer.ErrIssuer, "issuer"},
	{bearer.ErrAudience, "audience"},
	{bearer.ErrExpired, "expired"},
	{bearer.ErrNotYetValid, "not_yet_valid"},
	{bearer.ErrIssuedInFuture, "issued_in_future"},
	{bearer.ErrInactive, "inactive"},
	{bearer.ErrRevoked, "revoked"},
	{bearer.ErrBinding, "binding"},
	{bearer.ErrDPoPProof, "dpop_proof"},
	{bearer.ErrDPoPNonce, "dpop_nonce"},
}

// scheme is bearer.scheme: "dpop" or "bearer", whatever the case.
func scheme(s string) string {
	if s == "DPoP" {
		return "dpop"
	}
	return "bearer"
}

// other is error.type for a failure none of the names above fits, as the
// OpenTelemetry semantic conventions spell it.
const other = "_OTHER"

// validationResult returns the bearer.result and error.type of a
// validation: for an invalid token error.type is the reason, for other
// failures the result itself.
func validationResult(err error) (result, errType string) {
	if err == nil {
		return "success", ""
	}
	for _, k := range kinds {
		if !errors.Is(err, k.err) {
			continue
		}
		if k.err != bearer.ErrInvalidToken {
			return k.name, k.name
		}
		for _, r := range reasons {
			if errors.Is(err, r.err) {
				return k.name, r.name
			}
		}
		return k.name, other
	}
	// Validate returns only the kinds above; anything else fails closed.
	return "unavailable", other
}

// outcome is the bearer.result of a fetch.
func outcome(err error) string {
	if err != nil {
		return "failure"
	}
	return "success"
}

// failureType is error.type for a failed fetch or call: a timeout or
// anything else (the causes are network and parse errors, whose text may
// name a URL).
func failureType(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return other
}

// gauges are the instruments observeStatus reports.
type gauges struct {
	ready, keys                        metric.Int64Observable
	age                                metric.Float64Observable
	entries, introspected, revocations metric.Int64Observable
}

// observeStatus reports the gauges of the watched Validators.
func (o *Observer) observeStatus(r metric.Observer, g gauges) {
	o.mu.Lock()
	watched := append([]*bearer.Validator(nil), o.watched...)
	o.mu.Unlock()
	if len(watched) == 0 {
		return
	}
	allReady, fewest, cached, introspected, revoked := true, -1, 0, 0, 0
	var oldest time.Time
	for _, v := range watched {
		st := v.Status()
		allReady = allReady && st.Ready
		if fewest < 0 || st.Keys < fewest {
			fewest = st.Keys
		}
		if !st.KeysFetched.IsZero() && (oldest.IsZero() || st.KeysFetched.Before(oldest)) {
			oldest = st.KeysFetched
		}
		cached += st.CacheEntries
		introspected += st.IntrospectionEntries
		revoked += st.Revocations
	}
	r.ObserveInt64(g.ready, map[bool]int64{false: 0, true: 1}[allReady])
	r.ObserveInt64(g.keys, int64(fewest))
	if !oldest.IsZero() {
		r.ObserveFloat64(g.age, time.Since(oldest).Seconds())
	}
	r.ObserveInt64(g.entries, int64(cached))
	r.ObserveInt64(g.introspected, int64(introspected))
	r.ObserveInt64(g.revocations, int64(revoked))
}
