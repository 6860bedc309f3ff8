package conformance

import (
	"net/http"
	"testing"
)

// TestLogoutTable checks the logout table itself, as TestTable does the
// main one.
func TestLogoutTable(t *testing.T) {
	seen := make(map[string]bool)
	for _, c := range LogoutCases() {
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

// TestLogoutNetHTTP runs the logout table against the handler mounted on
// a net/http ServeMux.
func TestLogoutNetHTTP(t *testing.T) {
	RunLogout(t, func(h http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle(LogoutPath, h)
		return mux
	})
}
