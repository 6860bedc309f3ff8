package bearer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// manyMembers is a JSON object of about size bytes with distinct members,
// the most a header can hold under MaxTokenSize.
func manyMembers(first string, size int) string {
	var sb strings.Builder
	sb.WriteString("{" + first)
	for i := 0; sb.Len() < size; i++ {
		fmt.Fprintf(&sb, `,"%x":0`, i)
	}
	sb.WriteString("}")
	return sb.String()
}

// BenchmarkDecodeManyMembers is the cost of the duplicate-member check on
// the largest header an unauthenticated request can send: it must grow
// linearly with the members (issue 7 found it quadratic: 4.2 ms for 12 KB).
func BenchmarkDecodeManyMembers(b *testing.B) {
	b.Run("header", func(b *testing.B) {
		h := manyMembers(`"alg":"RS256"`, 12000)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeHeader(h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("payload", func(b *testing.B) {
		p := manyMembers(`"exp":1`, 12000)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeClaims(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Typical segments of an access token, as bearertest mints them.
var (
	typicalHeader  = `{"alg":"RS256","kid":"rs256-3f2a9c81d4e5","typ":"at+jwt"}`
	typicalPayload = `{"aud":"api","client_id":"client","exp":1893456000,"iat":1893452400,"iss":"https://login.example.com","jti":"K7VZQ2JX4M5N6P7Q8R9S2T3U4V","scope":"api read","sub":"248289761001"}`
)

// BenchmarkDecodeJSON compares the JSON work of the cold path: what
// encoding/json did (no duplicate or case check), the one-pass decoder
// (duplicate members refused, names exact) and the decoder with the
// UTF-8 check. Signature checks (40–90 µs) dwarf all three.
func BenchmarkDecodeJSON(b *testing.B) {
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var h struct {
				Alg, Kid, Typ            string
				Crit, JWK, JKU, X5U, X5C json.RawMessage
			}
			var w wireClaims
			if json.Unmarshal(bytesOf(typicalHeader), &h) != nil || json.Unmarshal(bytesOf(typicalPayload), &w) != nil {
				b.Fatal("decode")
			}
		}
	})
	b.Run("decoder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeHeader(typicalHeader); err != nil {
				b.Fatal(err)
			}
			if _, err := decodeClaims(typicalPayload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decoder+utf8", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !utf8.ValidString(typicalHeader) || !utf8.ValidString(typicalPayload) {
				b.Fatal("utf8")
			}
			if _, err := decodeHeader(typicalHeader); err != nil {
				b.Fatal(err)
			}
			if _, err := decodeClaims(typicalPayload); err != nil {
				b.Fatal(err)
			}
		}
	})
}
