package otelbearer_test

import (
	"context"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// named returns the ended spans called name.
func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

func TestValidationSpanUnderSampledParent(t *testing.T) {
	a := bearertest.New(t)
	v, _, spans, tp := setup(t, a, bearer.Config{})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	token := a.Token(bearertest.Payload{"aud": "api"})
	if _, err := v.Validate(ctx, token); err != nil {
		t.Fatal(err)
	}
	_, _ = v.Validate(ctx, a.Token(bearertest.Payload{"aud": "other"}))
	parent.End()

	got := named(spans.Ended(), "bearer.validate")
	if len(got) != 2 {
		t.Fatalf("%d validation spans, want 2", len(got))
	}
	for _, s := range got {
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %v: not a child of the request's span", s.SpanContext().SpanID())
		}
		if s.EndTime().Before(s.StartTime()) || s.StartTime().Before(parent.(sdktrace.ReadOnlySpan).StartTime()) {
			t.Errorf("span times %v–%v outside the request's", s.StartTime(), s.EndTime())
		}
	}
	if ok := got[0]; ok.Status().Code == codes.Error || attr(ok, "bearer.result") != "success" || attr(ok, "bearer.source") != "local" {
		t.Errorf("accepted token: status %v, attributes %v", ok.Status(), ok.Attributes())
	}
	if bad := got[1]; bad.Status().Code != codes.Error || bad.Status().Description != "audience" || attr(bad, "error.type") != "audience" {
		t.Errorf("refused token: status %v, attributes %v", bad.Status(), bad.Attributes())
	}
}

func TestNoValidationSpanWithoutSampledParent(t *testing.T) {
	a := bearertest.New(t)
	v, _, spans, tp := setup(t, a, bearer.Config{})
	token := a.Token(bearertest.Payload{"aud": "api"})
	if _, err := v.Validate(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	// A parent that the sampler dropped.
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})
	if _, err := v.Validate(trace.ContextWithSpanContext(context.Background(), unsampled), token); err != nil {
		t.Fatal(err)
	}
	_ = tp.ForceFlush(context.Background())
	if got := named(spans.Ended(), "bearer.validate"); len(got) != 0 {
		t.Errorf("%d validation spans without a sampled parent, want none", len(got))
	}
}

func TestBackgroundSpansLinked(t *testing.T) {
	a := bearertest.New(t)
	v, _, spans, tp := setup(t, a, bearer.Config{ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	a.RotateKey("RS256")
	if _, err := v.Validate(ctx, a.Token(bearertest.Payload{"aud": "api"})); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(ctx, a.ReferenceToken(bearertest.Payload{"aud": "api"})); err != nil {
		t.Fatal(err)
	}
	parent.End()

	refreshes := named(spans.Ended(), "bearer.refresh")
	// discovery and keys at start, then the keys for the new kid.
	if len(refreshes) != 3 {
		t.Fatalf("%d refresh spans, want 3", len(refreshes))
	}
	for _, s := range refreshes[:2] {
		if len(s.Links()) != 0 || attr(s, "bearer.trigger") != "start" {
			t.Errorf("start-up refresh %s: links %v, trigger %q", attr(s, "bearer.document"), s.Links(), attr(s, "bearer.trigger"))
		}
	}
	linked := append(refreshes[2:], named(spans.Ended(), "bearer.introspect")...)
	if len(linked) != 2 {
		t.Fatalf("%d spans for work the request caused, want 2", len(linked))
	}
	for _, s := range linked {
		if s.Parent().IsValid() || s.SpanContext().TraceID() == parent.SpanContext().TraceID() {
			t.Errorf("%s: not a root of its own", s.Name())
		}
		if len(s.Links()) != 1 || s.Links()[0].SpanContext.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s: links %v, want the request's span", s.Name(), s.Links())
		}
		if s.SpanKind() != trace.SpanKindClient || attr(s, "bearer.result") == "" {
			t.Errorf("%s: kind %v, attributes %v", s.Name(), s.SpanKind(), s.Attributes())
		}
	}
	if attr(refreshes[2], "bearer.trigger") != "unknown_kid" {
		t.Errorf("refresh for the new key: trigger %q", attr(refreshes[2], "bearer.trigger"))
	}
}
