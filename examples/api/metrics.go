package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	otelbearer "github.com/accesstoken/bearer/adapters/otel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// metrics is where the Validator's metrics go: nowhere, stdout or
// Prometheus, as -metrics says.
type metrics struct {
	observer *otelbearer.Observer // nil without -metrics
	handler  http.Handler         // GET /metrics, for Prometheus
	shutdown func(context.Context) error
}

// newMetrics sets up the OpenTelemetry meter provider for kind ("",
// "stdout" or "prometheus") and the Observer that feeds it.
func newMetrics(kind string, stdout io.Writer, interval time.Duration) (*metrics, error) {
	var reader sdkmetric.Reader
	m := &metrics{shutdown: func(context.Context) error { return nil }}
	switch kind {
	case "":
		return m, nil
	case "stdout":
		exp, err := stdoutmetric.New(stdoutmetric.WithWriter(stdout))
		if err != nil {
			return nil, err
		}
		// Exported every interval, and once more at shutdown.
		reader = sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(interval))
	case "prometheus":
		// A registry of our own: what this program exports, and the
		// process's own health (go_goroutines, process_resident_memory_bytes,
		// process_open_fds, and go_gc_heap_live_bytes, the heap the last
		// collection found live), which the soak (soak/) watches for leaks.
		registry := prometheus.NewRegistry()
		live := collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}
		registry.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(live)), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		exp, err := promexporter.New(promexporter.WithRegisterer(registry))
		if err != nil {
			return nil, err
		}
		reader = exp
		m.handler = promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
	default:
		return nil, fmt.Errorf("-metrics %q: want stdout or prometheus", kind)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m.shutdown = mp.Shutdown
	obs, err := otelbearer.New(otelbearer.WithMeterProvider(mp))
	if err != nil {
		return nil, err
	}
	m.observer = obs
	return m, nil
}
