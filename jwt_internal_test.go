package bearer

import "testing"

func TestLooksLikeJWS(t *testing.T) {
	for tok, want := range map[string]bool{
		"a.b.c":          true,
		"eyJ.eyJ.sig-_":  true,
		"a.b.":           false,
		".b.c":           false,
		"a..c":           false,
		"a.b":            false,
		"a.b.c.d":        false,
		"a.b.c.d.e":      false,
		"a.b=.c":         false,
		"a.b+.c":         false,
		"opaque-token":   false,
		"":               false,
		"a.b.c\x00":      false,
		"a.b.c ":         false,
		"{\"a\":1}.b.c":  false,
		"AAAA.BBBB.CCCC": true,
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ":  true,
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl/XNpZ25hdHVyZQ":  false,
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODk.wIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ": false,
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZ!":  false,
		"eyJhbGciOiJSUzI1NiJ9!.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ": false,
	} {
		if got := looksLikeJWS(tok); got != want {
			t.Errorf("looksLikeJWS(%q) = %v, want %v", tok, got, want)
		}
	}
}
