package otelbearer_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	otelbearer "github.com/accesstoken/bearer/adapters/otel"
	"github.com/accesstoken/bearer/bearertest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// setup returns a ready Validator for a, reporting to an in-memory
// reader and span recorder, and watched.
func setup(t *testing.T, a *bearertest.Authority, cfg bearer.Config) (*bearer.Validator, *sdkmetric.ManualReader, *tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	obs, err := otelbearer.New(otelbearer.WithMeterProvider(mp), otelbearer.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Authority = a.Issuer()
	cfg.Audience = []string{"api"}
	cfg.Observer = obs
	v, err := bearer.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	obs.Watch(v)
	return v, reader, spans, tp
}

// collect reads every metric from reader, by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/accesstoken/bearer/adapters/otel" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// key renders an attribute set as "k=v,k=v", sorted by key.
func key(s attribute.Set) string {
	var out string
	for _, kv := range s.ToSlice() {
		if out != "" {
			out += ","
		}
		out += string(kv.Key) + "=" + kv.Value.String()
	}
	return out
}

// histogramCounts returns a histogram's counts by attribute set, and
// checks its unit and that no sum is negative.
func histogramCounts(t *testing.T, data metricdata.Aggregation) map[string]uint64 {
	t.Helper()
	h, ok := data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%T, want a float64 histogram", data)
	}
	out := map[string]uint64{}
	for _, p := range h.DataPoints {
		if p.Sum < 0 {
			t.Errorf("%s: negative sum %v", key(p.Attributes), p.Sum)
		}
		out[key(p.Attributes)] = p.Count
	}
	return out
}

func sums(t *testing.T, data metricdata.Aggregation) map[string]int64 {
	t.Helper()
	s, ok := data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%T, want an int64 sum", data)
	}
	out := map[string]int64{}
	for _, p := range s.DataPoints {
		out[key(p.Attributes)] = p.Value
	}
	return out
}

func gauge[N int64 | float64](t *testing.T, data metricdata.Aggregation) N {
	t.Helper()
	g, ok := data.(metricdata.Gauge[N])
	if !ok || len(g.DataPoints) != 1 {
		t.Fatalf("%#v, want a gauge with one point", data)
	}
	return g.DataPoints[0].Value
}

func equal[V comparable](t *testing.T, name string, got, want map[string]V) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s{%s} = %v, want %v", name, k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s{%s} = %v, not expected", name, k, g)
		}
	}
}

func TestMetrics(t *testing.T) {
	a := bearertest.New(t)
	v, reader, _, _ := setup(t, a, bearer.Config{ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
	ctx := context.Background()
	jwt := a.Token(bearertest.Payload{"aud": "api"})
	ref := a.ReferenceToken(bearertest.Payload{"aud": "api"})
	for _, token := range []string{jwt, jwt, jwt, ref, ref, "", a.Token(bearertest.Payload{"aud": "other"}), "not-a-known-reference"} {
		_, _ = v.Validate(ctx, token)
	}
	a.RotateKey("RS256")
	if _, err := v.Validate(ctx, a.Token(bearertest.Payload{"aud": "api"})); err != nil {
		t.Fatal(err)
	}

	m := collect(t, reader)
	equal(t, "bearer.validation.duration", histogramCounts(t, m["bearer.validation.duration"]), map[string]uint64{
		"bearer.result=success,bearer.scheme=bearer,bearer.source=local,bearer.token.format=jwt":                                      2,
		"bearer.result=success,bearer.scheme=bearer,bearer.source=cache,bearer.token.format=jwt":                                      2,
		"bearer.result=success,bearer.scheme=bearer,bearer.source=introspection,bearer.token.format=opaque":                           1,
		"bearer.result=success,bearer.scheme=bearer,bearer.source=cache,bearer.token.format=opaque":                                   1,
		"bearer.result=no_token,bearer.scheme=bearer,error.type=no_token":                                                             1,
		"bearer.result=invalid_token,bearer.scheme=bearer,bearer.source=local,bearer.token.format=jwt,error.type=audience":            1,
		"bearer.result=invalid_token,bearer.scheme=bearer,bearer.source=introspection,bearer.token.format=opaque,error.type=inactive": 1,
	})
	equal(t, "bearer.cache.lookups", sums(t, m["bearer.cache.lookups"]), map[string]int64{
		"bearer.cache.result=hit,bearer.token.format=jwt":     2,
		"bearer.cache.result=miss,bearer.token.format=jwt":    3,
		"bearer.cache.result=hit,bearer.token.format=opaque":  1,
		"bearer.cache.result=miss,bearer.token.format=opaque": 2,
	})
	equal(t, "bearer.introspection.duration", histogramCounts(t, m["bearer.introspection.duration"]), map[string]uint64{
		"bearer.result=active":   1,
		"bearer.result=inactive": 1,
	})
	equal(t, "bearer.refresh.duration", histogramCounts(t, m["bearer.refresh.duration"]), map[string]uint64{
		"bearer.document=discovery,bearer.result=success,bearer.trigger=start":  1,
		"bearer.document=jwks,bearer.result=success,bearer.trigger=start":       1,
		"bearer.document=jwks,bearer.result=success,bearer.trigger=unknown_kid": 1,
	})
	st := v.Status()
	if got := gauge[int64](t, m["bearer.ready"]); got != 1 {
		t.Errorf("bearer.ready = %d, want 1", got)
	}
	if got := gauge[int64](t, m["bearer.jwks.keys"]); got != int64(st.Keys) || got == 0 {
		t.Errorf("bearer.jwks.keys = %d, want %d", got, st.Keys)
	}
	if got := gauge[float64](t, m["bearer.jwks.age"]); got < 0 || got > time.Since(st.KeysFetched).Seconds() {
		t.Errorf("bearer.jwks.age = %v, want at most %v", got, time.Since(st.KeysFetched).Seconds())
	}
	if got := gauge[int64](t, m["bearer.cache.entries"]); got != 2 || v.Status().CacheEntries != 2 {
		t.Errorf("bearer.cache.entries = %d (Status %d), want the 2 JWTs validated", got, v.Status().CacheEntries)
	}
	if got := gauge[int64](t, m["bearer.introspection.cache.entries"]); got != 2 || v.Status().IntrospectionEntries != 2 {
		t.Errorf("bearer.introspection.cache.entries = %d (Status %d), want the 2 reference tokens' answers", got, v.Status().IntrospectionEntries)
	}
	if got := gauge[int64](t, m["bearer.revocations"]); got != 0 {
		t.Errorf("bearer.revocations = %d, want 0", got)
	}
	if err := v.Revoke(context.Background(), bearer.Revocation{SessionID: "s1"}); err != nil {
		t.Fatal(err)
	}
	if got := gauge[int64](t, collect(t, reader)["bearer.revocations"]); got != 1 {
		t.Errorf("bearer.revocations = %d after one Revoke, want 1", got)
	}
}

func TestMetricsFailures(t *testing.T) {
	a := bearertest.New(t)
	v, reader, _, _ := setup(t, a, bearer.Config{ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
	ctx := context.Background()
	a.SetStatus(bearertest.Introspection, 500)
	a.SetStatus(bearertest.JWKS, 500)
	_, _ = v.Validate(ctx, a.ReferenceToken(bearertest.Payload{"aud": "api"}))
	_, _ = v.Validate(ctx, a.TokenWith("RS256", map[string]any{"kid": "absent"}, bearertest.Payload{"aud": "api"}))

	m := collect(t, reader)
	equal(t, "bearer.validation.duration", histogramCounts(t, m["bearer.validation.duration"]), map[string]uint64{
		"bearer.result=unavailable,bearer.scheme=bearer,bearer.source=introspection,bearer.token.format=opaque,error.type=unavailable": 1,
		"bearer.result=unavailable,bearer.scheme=bearer,bearer.source=local,bearer.token.format=jwt,error.type=unavailable":            1,
	})
	equal(t, "bearer.introspection.duration", histogramCounts(t, m["bearer.introspection.duration"]), map[string]uint64{
		"bearer.result=failure,error.type=_OTHER": 1,
	})
	refreshes := histogramCounts(t, m["bearer.refresh.duration"])
	if n := refreshes["bearer.document=jwks,bearer.result=failure,bearer.trigger=unknown_kid,error.type=_OTHER"]; n != 1 {
		t.Errorf("failed refreshes %v, want one for the unknown kid", refreshes)
	}
	// The keys stay in use; the gauges say so.
	if got := gauge[int64](t, m["bearer.ready"]); got != 1 {
		t.Errorf("bearer.ready = %d, want 1", got)
	}
}

// TestMetricsDPoP: DPoP requests are told from Bearer ones, and each
// refusal of a proof or a binding has its error.type.
func TestMetricsDPoP(t *testing.T) {
	a := bearertest.New(t)
	v, reader, _, _ := setup(t, a, bearer.Config{})
	ctx := context.Background()
	const url = "https://api.example/values"
	key := bearertest.NewDPoPKey("ES256")
	bound := a.Token(bearertest.Payload{"aud": "api", "cnf": key.Confirmation()})
	dpop := func(proof string) bearer.Presentation {
		return bearer.Presentation{Scheme: "DPoP", Token: bound, Method: "GET", URL: url, DPoP: []string{proof}}
	}
	for _, p := range []bearer.Presentation{
		dpop(key.Proof("GET", url, bound)),
		dpop(key.Proof("POST", url, bound)),
		{Scheme: "Bearer", Token: bound},
	} {
		_, _ = v.ValidatePresentation(ctx, p)
	}
	equal(t, "bearer.validation.duration", histogramCounts(t, collect(t, reader)["bearer.validation.duration"]), map[string]uint64{
		"bearer.result=success,bearer.scheme=dpop,bearer.source=local,bearer.token.format=jwt":                             1,
		"bearer.result=invalid_token,bearer.scheme=dpop,bearer.source=cache,bearer.token.format=jwt,error.type=dpop_proof": 1,
		"bearer.result=invalid_token,bearer.scheme=bearer,bearer.source=cache,bearer.token.format=jwt,error.type=binding":  1,
	})
}

func TestMetricsNotReady(t *testing.T) {
	a := bearertest.New(t)
	a.SetDown(true)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	obs, err := otelbearer.New(otelbearer.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	obs.Watch(v)
	m := collect(t, reader)
	if got := gauge[int64](t, m["bearer.ready"]); got != 0 {
		t.Errorf("bearer.ready = %d, want 0", got)
	}
	if got := gauge[int64](t, m["bearer.jwks.keys"]); got != 0 {
		t.Errorf("bearer.jwks.keys = %d, want 0", got)
	}
	if _, ok := m["bearer.jwks.age"]; ok {
		t.Error("bearer.jwks.age reported before any key set")
	}
}

// TestNoTokenMaterial checks that no attribute of any metric or span
// carries a token, a subject, a token ID or a URL.
func TestNoTokenMaterial(t *testing.T) {
	a := bearertest.New(t)
	v, reader, spans, tp := setup(t, a, bearer.Config{ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	jwt := a.Token(bearertest.Payload{"aud": "api", "sub": "alice-subject", "jti": "the-jti"})
	ref := a.ReferenceToken(bearertest.Payload{"aud": "api", "sub": "alice-subject"})
	for _, token := range []string{jwt, jwt, ref, "garbage.token.here"} {
		_, _ = v.Validate(ctx, token)
	}
	parent.End()
	secrets := []string{jwt, ref, "alice-subject", "the-jti", a.URL, "garbage"}
	check := func(where string, attrs []attribute.KeyValue) {
		allowed := map[attribute.Key]bool{"bearer.token.format": true, "bearer.scheme": true, "bearer.source": true, "bearer.result": true,
			"bearer.document": true, "bearer.trigger": true, "bearer.cache.result": true, "error.type": true}
		for _, kv := range attrs {
			if !allowed[kv.Key] {
				t.Errorf("%s: attribute %s", where, kv.Key)
			}
			for _, s := range secrets {
				if s != "" && kv.Value.String() == s {
					t.Errorf("%s: %s carries %q", where, kv.Key, s)
				}
			}
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					check(m.Name, p.Attributes.ToSlice())
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					check(m.Name, p.Attributes.ToSlice())
				}
			}
		}
	}
	for _, s := range spans.Ended() {
		if s.Name() == "request" {
			continue
		}
		check(s.Name(), s.Attributes())
	}
}

// TestMetricsSkippedKeys: the keys a JWK Set holds that cannot verify
// tokens are counted by reason, once per change of the set: fetching the
// same set again counts nothing.
func TestMetricsSkippedKeys(t *testing.T) {
	a := bearertest.New(t)
	a.PublishRaw(
		json.RawMessage(`{"kty":"oct","kid":"secret","k":"c2VjcmV0"}`),
		json.RawMessage(`{"kty":"OKP","crv":"X25519","kid":"agree","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`),
		json.RawMessage(`{"kty":"OKP","crv":"Ed448","kid":"ed448","x":"X9dEm1m0Yf0s54fsYWrUah2hNCSFpw4fig6nXYDpZ3jt8SR2m0bHBhvWeD3x5Q9s0foavq_oJWGA"}`),
	)
	v, reader, _, _ := setup(t, a, bearer.Config{})
	want := map[string]int64{"bearer.skip.reason=symmetric_key": 1, "bearer.skip.reason=unsupported_curve": 2}
	equal(t, "bearer.jwks.keys.skipped", sums(t, collect(t, reader)["bearer.jwks.keys.skipped"]), want)

	// A token with an unknown kid makes the set be fetched again, as it was.
	_, _ = v.Validate(context.Background(), a.TokenWith("RS256", map[string]any{"kid": "absent"}, bearertest.Payload{"aud": "api"}))
	m := collect(t, reader)
	if n := histogramCounts(t, m["bearer.refresh.duration"])["bearer.document=jwks,bearer.result=success,bearer.trigger=unknown_kid"]; n != 1 {
		t.Fatalf("the set was not fetched again: %v", histogramCounts(t, m["bearer.refresh.duration"]))
	}
	equal(t, "bearer.jwks.keys.skipped", sums(t, m["bearer.jwks.keys.skipped"]), want)

	// A change of the set counts its odd keys again.
	a.PublishRaw(json.RawMessage(`{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}`))
	_, _ = v.Validate(context.Background(), a.TokenWith("RS256", map[string]any{"kid": "absent-too"}, bearertest.Payload{"aud": "api"}))
	want = map[string]int64{"bearer.skip.reason=symmetric_key": 2, "bearer.skip.reason=unsupported_curve": 4, "bearer.skip.reason=encryption_key": 1}
	equal(t, "bearer.jwks.keys.skipped", sums(t, collect(t, reader)["bearer.jwks.keys.skipped"]), want)
}
