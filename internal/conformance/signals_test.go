package conformance

import (
	"net/http"
	"testing"
)

// TestSignalsTable checks the Shared Signals table itself, as TestTable
// does the main one.
func TestSignalsTable(t *testing.T) {
	seen := make(map[string]bool)
	for _, c := range SignalsCases() {
		if seen[c.Name] {
			t.Errorf("two cases named %q", c.Name)
		}
		seen[c.Name] = true
		if !ref.MatchString(c.Ref) {
			t.Errorf("case %q: Ref %q names no specification section", c.Name, c.Ref)
		}
		if c.Want.Status == 0 {
			t.Errorf("case %q wants no status", c.Name)
		}
	}
}

// TestSignalsNetHTTP runs the Shared Signals table against a receiver's
// push endpoint mounted on a net/http ServeMux.
func TestSignalsNetHTTP(t *testing.T) {
	RunSignals(t, func(h http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle(SignalsPath, h)
		return mux
	})
}
