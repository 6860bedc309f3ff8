package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/accesstoken/bearer/bench"
)

// The floors beside bearer-warm refuse a request without an
// Authorization field and answer the others as the bare handler does.
func TestFloorHandlers(t *testing.T) {
	for _, name := range []string{hContext, hSpin} {
		h, _, err := protect(context.Background(), name, bench.Target{}, "")
		if err != nil {
			t.Fatal(name, err)
		}
		for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer x": http.StatusOK} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != want || want == http.StatusOK && w.Body.String() != "ok\n" {
				t.Errorf("%s, Authorization %q: %d %q, want %d", name, auth, w.Code, w.Body, want)
			}
		}
	}
	if n := calibrate(spinFor); n < 1 {
		t.Errorf("calibrate(%v) = %d rounds", spinFor, n)
	}
}
