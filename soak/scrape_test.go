package main

import (
	"math"
	"testing"
)

// TestMetricLine: the replicas' /metrics lines are read as Prometheus's
// text format writes them, so that the report's own timing of cached
// validations and the memory classes come from the right series.
func TestMetricLine(t *testing.T) {
	for _, c := range []struct {
		line, name, labels string
		v                  float64
		ok                 bool
	}{
		{"go_goroutines 42", "go_goroutines", "", 42, true},
		{"go_memstats_heap_inuse_bytes 1.2345e+07", "go_memstats_heap_inuse_bytes", "", 12345000, true},
		{`bearer_validation_duration_seconds_bucket{bearer_result="success",bearer_scheme="bearer",bearer_source="cache",bearer_token_format="jwt",le="0.005"} 17`,
			"bearer_validation_duration_seconds_bucket", `bearer_result="success",bearer_scheme="bearer",bearer_source="cache",bearer_token_format="jwt",le="0.005"`, 17, true},
		{"# HELP go_goroutines Number of goroutines.", "", "", 0, false},
		{"", "", "", 0, false},
		{"go_goroutines NaNish", "", "", 0, false},
	} {
		name, labels, v, ok := metricLine(c.line)
		if name != c.name || labels != c.labels || v != c.v || ok != c.ok {
			t.Errorf("metricLine(%q) = %q, %q, %v, %v; want %q, %q, %v, %v", c.line, name, labels, v, ok, c.name, c.labels, c.v, c.ok)
		}
	}
	labels := `bearer_source="cache",bearer_token_format="opaque",le="+Inf"`
	if got := label(labels, "le"); got != "+Inf" {
		t.Errorf("le = %q", got)
	}
	if got := label(labels, "bearer_token_format"); got != "opaque" {
		t.Errorf("format = %q", got)
	}
	if got := label(labels, "format"); got != "" {
		t.Errorf("a label that is the end of another's name: %q", got)
	}
}

// TestOwnQuantiles: the replicas' histogram, cumulative under each bound,
// gives the bound under which a quantile fell and the count over 5 ms.
func TestOwnQuantiles(t *testing.T) {
	h := map[float64]float64{1e-5: 900, 1e-4: 985, 5e-3: 995, 0.01: 1000, math.Inf(1): 1000}
	if got, want := ownQuantiles(h), "1000 validations, p50 ≤ 10µs, p99 ≤ 5ms, 5 over 5 ms"; got != want {
		t.Errorf("ownQuantiles = %q, want %q", got, want)
	}
	if got := ownQuantiles(map[float64]float64{}); got != "none recorded" {
		t.Errorf("empty: %q", got)
	}
}
