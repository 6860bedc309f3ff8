package conformance

import (
	"regexp"
	"testing"
)

// ref is a section of an RFC or of another named specification.
var ref = regexp.MustCompile(`^(RFC \d+|OIDC Core 1\.0|OpenID Connect Discovery 1\.0|OIDC Back-Channel Logout 1\.0|CAEP 1\.0|Fetch) §[\d.]+`)

// TestTable checks the table itself: every case has a unique name and
// names the section of the specification it comes from.
func TestTable(t *testing.T) {
	seen := make(map[string]bool)
	for _, c := range Cases() {
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
