package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// TestCachedTokenAllocations: a request with a cached token costs the
// middleware two allocations, the claims' copy with the context that
// carries them, and the request that net/http's WithContext makes to
// carry that context (issue 28: the HTTP throughput with a cached token).
func TestCachedTokenAllocations(t *testing.T) {
	f := newFixture(t)
	h := middleware.New(f.env.OK)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := bearer.ClaimsFromContext(r.Context()); !ok {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	r := httptest.NewRequest(http.MethodGet, "/values", nil)
	r.Header.Set("Authorization", "Bearer "+f.token)
	w := &statusWriter{header: http.Header{}}
	h.ServeHTTP(w, r) // the miss that caches the token
	allocs := testing.AllocsPerRun(100, func() {
		w.status = 0
		h.ServeHTTP(w, r)
		if w.status != 0 {
			t.Fatalf("status %d", w.status)
		}
	})
	if allocs != 2 {
		t.Errorf("%v allocations per request with a cached token, want 2", allocs)
	}
}

// statusWriter is a ResponseWriter that keeps only the status, and
// allocates nothing.
type statusWriter struct {
	header http.Header
	status int
}

func (w *statusWriter) Header() http.Header         { return w.header }
func (w *statusWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *statusWriter) WriteHeader(status int)      { w.status = status }
