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
	} {
		if got := looksLikeJWS(tok); got != want {
			t.Errorf("looksLikeJWS(%q) = %v, want %v", tok, got, want)
		}
	}
}
