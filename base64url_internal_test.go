package bearer

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecodeB64: decodeB64 decodes what b64 decodes, to the same bytes,
// and refuses what b64 refuses, and line breaks, which b64 skips.
func FuzzDecodeB64(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "AAAAAAAA", "AAAAAAAAAAA", "eyJhbGciOiJSUzI1NiJ9",
		"c2lnbmF0dXJlIG9mIG5pbmU", "c2lnbmF0dXJlIG9mIG5pbmV", "c2ln\nbmF0", "c2ln=", "c2+/bmF0", "-_-_-_-_-_-_-_-_-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		want, err := b64.DecodeString(src)
		dst := make([]byte, b64.DecodedLen(len(src)))
		n, ok := decodeB64(dst, src)
		switch {
		case strings.ContainsAny(src, "\r\n"):
			if ok {
				t.Fatalf("decodeB64(%q) accepted a line break", src)
			}
		case ok != (err == nil):
			t.Fatalf("decodeB64(%q): %v, b64: %v", src, ok, err)
		case ok && !bytes.Equal(dst[:n], want):
			t.Fatalf("decodeB64(%q) = %x, b64: %x", src, dst[:n], want)
		}
	})
}
