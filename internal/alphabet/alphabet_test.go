package alphabet

import (
	"strings"
	"testing"
)

func TestSpells(t *testing.T) {
	digits := New("0123456789")
	long := strings.Repeat("0123456789", 5)
	for s, want := range map[string]bool{
		"":                             true,
		"7":                            true,
		"x":                            false,
		"01234567":                     true,
		"0123456x":                     false,
		"x1234567":                     false,
		"012345678":                    true,
		"01234567x":                    false,
		long:                           true,
		long[:23] + "\x00" + long[24:]: false,
		long + "\xff":                  false,
	} {
		if got := digits.Spells(s); got != want {
			t.Errorf("Spells(%q) = %v, want %v", s, got, want)
		}
	}
}

func BenchmarkSpells(b *testing.B) {
	set := New("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
	s := strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 50)
	for b.Loop() {
		if !set.Spells(s) {
			b.Fatal("refused")
		}
	}
}

func TestIsB64Token(t *testing.T) {
	for s, want := range map[string]bool{
		"abc":           true,
		"a-._~+/Z9":     true,
		"abc==":         true,
		"abc=d":         false,
		"==":            false,
		"":              false,
		"a b":           false,
		"eyJ.eyJ.sig":   true,
		"tok\x00":       false,
		"tokentoken\"x": false,
	} {
		if got := IsB64Token(s); got != want {
			t.Errorf("IsB64Token(%q) = %v, want %v", s, got, want)
		}
	}
}
