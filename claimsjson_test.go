package bearer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// referenceDecode is the payload decoding by encoding/json that
// decodeClaims replaces.
func referenceDecode(payload []byte) (*wireClaims, error) {
	var w wireClaims
	if !isObject(payload) {
		return nil, errJSON
	}
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// caseVariant reports whether payload has a member whose name differs
// from a claim's only by case, which encoding/json would read as the claim
// and decodeClaims does not.
func caseVariant(payload []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return false
	}
	for name := range m {
		for _, claim := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "scp", "sid", "cnf"} {
			if name != claim && strings.EqualFold(name, claim) {
				return true
			}
		}
	}
	return false
}

func checkAgainstReference(t *testing.T, payload []byte) {
	got, err := decodeClaims(string(payload))
	want, werr := referenceDecode(payload)
	if err != nil || caseVariant(payload) {
		// Stricter than encoding/json is allowed (duplicates, nulls in
		// arrays), and so is matching claim names exactly.
		return
	}
	if werr != nil {
		t.Fatalf("decodeClaims accepted what encoding/json refuses (%v): %q", werr, payload)
	}
	g, w := got.claims(string(payload)), want.claims(string(payload))
	g.raw, w.raw = "", ""
	if !bytes.Equal(g.Confirmation, w.Confirmation) {
		t.Fatalf("cnf %q, want %q, for %q", g.Confirmation, w.Confirmation, payload)
	}
	g.Confirmation, w.Confirmation = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("decodeClaims = %+v\nencoding/json = %+v\nfor %q", g, w, payload)
	}
}

var claimsSeeds = []string{
	`{}`,
	`{"iss":"https://a.example","sub":"alice","aud":"api","exp":1893456000,"iat":1.5e9,"nbf":1700000000.25,"jti":"j","client_id":"c","scope":"a  b","scp":["c","","d"],"sid":"s","cnf":{"jkt":"x"},"extra":[1,{"a":null},true,false,-0.5e-3]}`,
	`{"aud":["a","b"],"scope":["x y"],"exp":null,"iss":null}`,
	`{"iss":"\u0041\n\"q\"","sub":"\ud83d\ude00","aud":[]}`,
	` { "exp" : 1 , "nested" : [ [ [ ] ] ] } `,
	`{"iss":"a","iss":"b"}`,
	`{"x":1,"x":2}`,
	`{"ISS":"evil","iss":"good"}`,
	`{"exp":"1"}`, `{"exp":true}`, `{"exp":1e309}`, `{"exp":-1}`, `{"exp":01}`, `{"exp":1.}`,
	`{"aud":1}`, `{"aud":{"a":1}}`, `{"aud":["a",null]}`, `{"scope":5}`,
	"{\"iss\":\"\xff\xfe\"}",
	`{"a":"\x"}`, `{"a":"` + "\x01" + `"}`, `{"a":1,}`, `{"a" 1}`, `{"a":1} x`, `[1]`, `"s"`, `null`, ``,
	`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
}

func TestDecodeClaimsAgreesWithEncodingJSON(t *testing.T) {
	for _, p := range claimsSeeds {
		checkAgainstReference(t, []byte(p))
	}
}

func TestDecodeClaimsStrictness(t *testing.T) {
	for _, p := range []string{
		`{"iss":"a","iss":"b"}`, // RFC 7515 §4: duplicate names are refused
		`{"x":1,"x":2}`,
		`{"exp":1e309}`,
		`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, // nesting bound
		`{"a":1} x`,
	} {
		if _, err := decodeClaims(p); err == nil {
			t.Errorf("decodeClaims accepted %q", p)
		}
	}
	w, err := decodeClaims(`{"ISS":"evil","iss":"good"}`)
	if err != nil || w.Iss != "good" {
		t.Errorf("claim names must match exactly: %+v, %v", w, err)
	}
}

func FuzzDecodeClaims(f *testing.F) {
	for _, p := range claimsSeeds {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkAgainstReference(t, payload)
	})
}

func TestDecodeHeader(t *testing.T) {
	h, err := decodeHeader(` {"alg":"RS256","kid":"k1","typ":"at+jwt","x":{"y":[1]}} `)
	if err != nil || h.Alg != "RS256" || h.Kid != "k1" || h.Typ != "at+jwt" {
		t.Fatalf("decodeHeader = %+v, %v", h, err)
	}
	for _, p := range []string{`{"alg":"RS256","jku":null}`, `{"crit":[]}`, `{"jwk":{}}`, `{"x5u":"u"}`, `{"x5c":["c"]}`} {
		if _, err := decodeHeader(p); err != errForbiddenHeader {
			t.Errorf("decodeHeader(%s) = %v, want the member refused", p, err)
		}
	}
	for _, p := range []string{`{"alg":"RS256","alg":"none"}`, `{"alg":1}`, `[]`, `{"alg":"RS256"`, `{"alg":"RS256"}{}`} {
		if _, err := decodeHeader(p); err == nil {
			t.Errorf("decodeHeader(%s) accepted", p)
		}
	}
	if h, _ := decodeHeader(`{"ALG":"none","alg":"RS256"}`); h.Alg != "RS256" {
		t.Errorf("header names must match exactly: %+v", h)
	}
}

func FuzzDecodeHeader(f *testing.F) {
	for _, p := range []string{`{"alg":"RS256","kid":"k","typ":"at+jwt"}`, `{"alg":"none"}`, `{"jku":"x"}`, `{"a":[{"b":null}]}`} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		h, err := decodeHeader(string(header))
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(header, &m) != nil {
			t.Fatalf("decodeHeader accepted what encoding/json refuses: %q", header)
		}
		if alg, ok := m["alg"].(string); ok && alg != h.Alg {
			t.Fatalf("alg %q, encoding/json %q", h.Alg, alg)
		}
	})
}
