package middleware

import (
	"net/url"
	"testing"
)

// FuzzQueryHasToken: the shortcut that spares most requests parsing their
// query answers as url.ParseQuery does, escapes, semicolons and malformed
// pairs included.
func FuzzQueryHasToken(f *testing.F) {
	for _, q := range []string{
		"", "x=1", "access_token=", "access_token", "x=1&access_token=a", "access%5Ftoken=a", "%61ccess_token=a",
		"access%5ftoken", "access_token;x=1", "x;y=1&access_token=a", "access_token=%zz", "access%zztoken=a",
		"access+token=a", "access_tokens=a", "&&access_token&&", "access%5Ftoken=%",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		values, _ := url.ParseQuery(query)
		if got, want := queryHasToken(query), values.Has("access_token"); got != want {
			t.Fatalf("queryHasToken(%q) = %v, url.ParseQuery finds it: %v", query, got, want)
		}
	})
}
