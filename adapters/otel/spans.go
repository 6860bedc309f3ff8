package otelbearer

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/accesstoken/bearer/observe"
)

// validationSpan records a span for a validation, a child of the
// request's span, only if that span is sampled: a span per request that
// no one keeps would cost every request for nothing. The span is made
// once the validation is over, with its times.
func (o *Observer) validationSpan(ctx context.Context, v observe.Validation, attrs []attribute.KeyValue, errType string) {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return
	}
	_, span := o.tracer.Start(ctx, "bearer.validate", trace.WithTimestamp(v.Start), trace.WithAttributes(attrs...))
	if v.Err != nil {
		span.SetStatus(codes.Error, errType)
	}
	span.End(trace.WithTimestamp(v.Start.Add(v.Duration)))
}

// backgroundSpan records a span for work that ran on its own (a fetch, an
// introspection call shared by the requests that wanted it): a root of
// its own, linked to the span of the request that caused it, if any.
func (o *Observer) backgroundSpan(ctx context.Context, name string, start time.Time, d time.Duration, err error, attrs []attribute.KeyValue) {
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start), trace.WithAttributes(attrs...)}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	_, span := o.tracer.Start(ctx, name, opts...)
	if err != nil {
		span.SetStatus(codes.Error, failureType(err))
	}
	span.End(trace.WithTimestamp(start.Add(d)))
}
