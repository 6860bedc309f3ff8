package bearer

import (
	"testing"

	"github.com/accesstoken/bearer/internal/alphabet"
)

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
		if want && !alphabet.IsB64Token(tok) {
			t.Errorf("%q has the JWS shape but is no b64token", tok)
		}
	}
}

// FuzzJWSShapeIsB64Token: every token of the JWS shape is a b64token. The
// validated-token cache holds only such tokens, so a cache hit may skip
// the syntax check of a token from an Authorization field (presented):
// a malformed token is never a hit.
func FuzzJWSShapeIsB64Token(f *testing.F) {
	for _, s := range []string{"a.b.c", "a.b.c=", "a b.c.d", "a.b.c.d", "eyJ.eyJ.sig-_", "a.b.c\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if looksLikeJWS(tok) && !alphabet.IsB64Token(tok) {
			t.Fatalf("%q has the JWS shape but is no b64token", tok)
		}
	})
}
