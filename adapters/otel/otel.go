// Package otelbearer turns an observe.Observer into OpenTelemetry metrics
// and spans. It is a module of its own, so that the OpenTelemetry API
// stays out of the core's dependencies.
//
//	obs, err := otelbearer.New() // the global MeterProvider and TracerProvider
//	if err != nil { … }
//	v, err := bearer.New(ctx, bearer.Config{Authority: …, Audience: …, Observer: obs})
//	if err != nil { … }
//	obs.Watch(v) // gauges: readiness, keys and their age, cached tokens and answers
//
// Every attribute has a closed set of values (see docs/operations.md):
// never a token, a subject, a token ID or a URL.
package otelbearer

import (
	"context"
	"errors"
	"sync"

	"github.com/accesstoken/bearer"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// scope is the instrumentation scope of the meter and the tracer.
const scope = "github.com/accesstoken/bearer/adapters/otel"

// Observer records what Validators and Introspectors report as
// OpenTelemetry metrics and spans. Give it to bearer.Config.Observer; one
// Observer may serve several Validators. It is safe for concurrent use.
type Observer struct {
	tracer trace.Tracer

	validation    metric.Float64Histogram
	refresh       metric.Float64Histogram
	introspection metric.Float64Histogram
	lookups       metric.Int64Counter
	skipped       metric.Int64Counter

	mu      sync.Mutex
	watched []*bearer.Validator
}

// Option configures New.
type Option func(*options)

type options struct {
	meters  metric.MeterProvider
	tracers trace.TracerProvider
}

// WithMeterProvider sets where metrics go; by default otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meters = mp }
}

// WithTracerProvider sets where spans go; by default otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracers = tp }
}

// durationBuckets spans a cache hit (about a microsecond) to a slow
// authority (seconds): the default buckets start at 5 ms, where every
// local validation would fall into the first.
var durationBuckets = []float64{1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5}

// New returns an Observer that records to the providers of opts.
func New(opts ...Option) (*Observer, error) {
	o := &options{}
	for _, opt := range opts {
		opt(o)
	}
	if o.meters == nil {
		o.meters = otel.GetMeterProvider()
	}
	if o.tracers == nil {
		o.tracers = otel.GetTracerProvider()
	}
	m := o.meters.Meter(scope)
	obs := &Observer{tracer: o.tracers.Tracer(scope)}
	var (
		errs                                            [11]error
		ready, keys, entries, introspected, revocations metric.Int64ObservableGauge
		age                                             metric.Float64ObservableGauge
	)
	obs.validation, errs[0] = m.Float64Histogram("bearer.validation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of token validations, by token format, source and result."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	obs.refresh, errs[1] = m.Float64Histogram("bearer.refresh.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of fetches of the authority's discovery document and JWK Set, by document, trigger and result."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	obs.introspection, errs[2] = m.Float64Histogram("bearer.introspection.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of calls to the introspection endpoint, by result."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	obs.lookups, errs[3] = m.Int64Counter("bearer.cache.lookups", metric.WithUnit("{lookup}"),
		metric.WithDescription("Validations answered from a cache (hit) or not (miss), by token format."))
	ready, errs[4] = m.Int64ObservableGauge("bearer.ready",
		metric.WithDescription("1 when every watched Validator has discovered its authority and fetched its keys, else 0."))
	keys, errs[5] = m.Int64ObservableGauge("bearer.jwks.keys", metric.WithUnit("{key}"),
		metric.WithDescription("Signing keys in use (the fewest of the watched Validators)."))
	age, errs[6] = m.Float64ObservableGauge("bearer.jwks.age", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest key set in use, fetched last good."))
	entries, errs[7] = m.Int64ObservableGauge("bearer.cache.entries", metric.WithUnit("{token}"),
		metric.WithDescription("Tokens in the validated-token caches of the watched Validators."))
	revocations, errs[8] = m.Int64ObservableGauge("bearer.revocations", metric.WithUnit("{revocation}"),
		metric.WithDescription("Revocations kept by the watched Validators (back-channel logouts, Revoke)."))
	introspected, errs[9] = m.Int64ObservableGauge("bearer.introspection.cache.entries", metric.WithUnit("{answer}"),
		metric.WithDescription("Introspection answers held in memory by the watched Validators."))
	obs.skipped, errs[10] = m.Int64Counter("bearer.jwks.keys.skipped", metric.WithUnit("{key}"),
		metric.WithDescription("Keys of a JWK Set left out because they cannot verify tokens, by reason; counted once per change of the set."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	_, err := m.RegisterCallback(func(_ context.Context, r metric.Observer) error {
		obs.observeStatus(r, gauges{ready, keys, age, entries, introspected, revocations})
		return nil
	}, ready, keys, age, entries, introspected, revocations)
	if err != nil {
		return nil, err
	}
	return obs, nil
}

// Watch adds v to the Validators whose status and caches
// (bearer.Validator.Status) the gauges report. Watch it after
// bearer.New, with the Observer given to its Config.
func (o *Observer) Watch(v *bearer.Validator) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.watched = append(o.watched, v)
}

// Attribute keys. Each has a closed set of values.
const (
	keyFormat   = attribute.Key("bearer.token.format")
	keyScheme   = attribute.Key("bearer.scheme")
	keySource   = attribute.Key("bearer.source")
	keyResult   = attribute.Key("bearer.result")
	keyDocument = attribute.Key("bearer.document")
	keyTrigger  = attribute.Key("bearer.trigger")
	keyCache    = attribute.Key("bearer.cache.result")
	keySkip     = attribute.Key("bearer.skip.reason")
	keyError    = attribute.Key("error.type")
)
