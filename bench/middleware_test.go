package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

// BenchmarkMiddleware serves one request with a cached RS256 token in
// process, without the network: lib=bare is the handler alone,
// lib=bearer-warm the handler behind the middleware. What is between them
// is what the middleware adds to a request that hits the cache, the part
// of httpbench's one-token comparison this library controls.
func BenchmarkMiddleware(b *testing.B) {
	a := bearertest.New(b)
	ctx := context.Background()
	token := a.TokenWith("RS256", nil, Claims())
	bare := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := bearer.ClaimsFromContext(r.Context()); !ok {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	v, err := NewBearerValidator(ctx, TargetOf(a, "RS256"), true, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	for _, lib := range []string{"bare", "bearer-warm"} {
		b.Run("lib="+lib, func(b *testing.B) {
			h := http.Handler(bare)
			if lib != "bare" {
				h = middleware.New(v)(guarded)
			}
			r := httptest.NewRequest(http.MethodGet, "/values", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				w.status = 0
				h.ServeHTTP(w, r)
				if w.status != 0 {
					b.Fatalf("status %d", w.status)
				}
			}
			// The process's CPU time, the collector's included: steadier
			// than ns/op on a host whose neighbours take the CPU away.
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
