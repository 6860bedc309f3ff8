package bearer

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
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
	if err == nil {
		checkOneReading(t, payload, claimMembers)
	}
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
	// The blocks they were made in hold copies of the lists, in room
	// that one of them may not have used.
	g.raw, w.raw, g.block, w.block = "", "", nil, nil
	if !bytes.Equal(g.Confirmation, w.Confirmation) {
		t.Fatalf("cnf %q, want %q, for %q", g.Confirmation, w.Confirmation, payload)
	}
	g.Confirmation, w.Confirmation = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("decodeClaims = %+v\nencoding/json = %+v\nfor %q", g, w, payload)
	}
}

// checkOneReading: a payload decodeObject accepted can be read only one
// way by encoding/json, whose case-insensitive matching Claims.Decode
// uses (issue 18, findings 4 and 8): in no object, at any depth, are two
// names equal when case is folded; no top-level name is one of members
// in another case; and no string decodes to U+FFFD that was not U+FFFD
// in the input (a lone surrogate, or invalid UTF-8).
func checkOneReading(t *testing.T, payload []byte, members []string) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(payload))
	if ok, err := namesOnce(d); err != nil || !ok {
		t.Fatalf("accepted an object with two names equal when case is folded (%v): %q", err, payload)
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		t.Fatalf("accepted what encoding/json refuses (%v): %q", err, payload)
	}
	for name := range v.(map[string]any) {
		for _, m := range members {
			if name != m && strings.EqualFold(name, m) {
				t.Fatalf("accepted %q, which encoding/json reads as %q: %q", name, m, payload)
			}
		}
	}
	literal := bytes.Contains(payload, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(payload), []byte(`\ufffd`))
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if strings.ContainsRune(v, utf8.RuneError) && !literal {
				t.Fatalf("accepted a string encoding/json reads as %q: %q", v, payload)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for name, e := range v {
				walk(name)
				walk(e)
			}
		}
	}
	walk(v)
}

// namesOnce walks the next value of d with the tokenizer, which keeps
// every name, and reports whether no object in it has two names equal
// when case is folded.
func namesOnce(d *json.Decoder) (bool, error) {
	tok, err := d.Token()
	if err != nil {
		return false, err
	}
	switch tok {
	case json.Delim('{'):
		var names []string
		for d.More() {
			tok, err := d.Token()
			if err != nil {
				return false, err
			}
			name := tok.(string)
			for _, o := range names {
				if strings.EqualFold(o, name) {
					return false, nil
				}
			}
			names = append(names, name)
			if ok, err := namesOnce(d); !ok || err != nil {
				return ok, err
			}
		}
	case json.Delim('['):
		for d.More() {
			if ok, err := namesOnce(d); !ok || err != nil {
				return ok, err
			}
		}
	default:
		return true, nil
	}
	_, err = d.Token() // the closing delimiter
	return err == nil, err
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
	// One reading only (issue 18, findings 4 and 8).
	`{"sub":"alice","SUB":"admin"}`, `{"SUB":"admin"}`, `{"ſub":"admin"}`, `{"role":"user","Role":"admin"}`,
	`{"cnf":{"jkt":"a","jkt":"b"}}`, `{"cnf":{"jkt":"a","JKT":"b"}}`, `{"x":[{"a":{"b":1,"B":2}}]}`, `{"x":{"K":1,"\u212a":2}}`,
	`{"sub":"\ud800"}`, `{"sub":"\udc00\ud800"}`, `{"sub":"\ud83d\ude00"}`, `{"sub":"\ud83dx"}`, `{"sub":"\ud83d\u0041"}`,
	`{"sub":"\\ud800"}`, `{"x":["\uDBFF\uDFFF","\uDFFF"]}`, `{"\ud800":1}`, `{"sub":"\ufffd"}`, "{\"sub\":\"\xef\xbf\xbd\"}",
	// What a token authorises (issue 30): authorization_details, act, may_act.
	`{"authorization_details":[{"type":"a","actions":["r"],"locations":[],"identifier":"i","x":{"y":[1]}}],"act":{"sub":"s","act":{"sub":"t","iss":"u"}},"may_act":{"sub":"m"}}`,
	`{"authorization_details":{"type":"a"}}`, `{"authorization_details":[{"Type":"a","type":"b"}]}`, `{"authorization_details":[{}]}`,
	`{"act":"s"}`, `{"act":{"act":{"sub":1}}}`, `{"act":null,"may_act":null}`, `{"Act":{"sub":"s"}}`,
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
	// A registered name in another case is neither read nor ignored: it
	// is what encoding/json would read (issue 18, finding 4).
	for _, p := range []string{`{"ISS":"evil","iss":"good"}`, `{"ISS":"evil"}`, `{"x":1,"X":2}`, `{"cnf":{"jkt":"a","JKT":"b"}}`} {
		if _, err := decodeClaims(p); err == nil {
			t.Errorf("decodeClaims accepted %q", p)
		}
	}
	w, err := decodeClaims(`{"Issuer":"evil","iss":"good"}`)
	if err != nil || w.Iss != "good" {
		t.Errorf("claim names must match exactly: %+v, %v", w, err)
	}
}

// objectMembers, the reader package signals reads SETs with, gives each
// member's value as JSON by its exact name, and refuses what decodeClaims
// refuses of any object: a name twice, at any depth and in any case,
// strings that are not UTF-8, anything but one object.
func TestObjectMembers(t *testing.T) {
	m, err := objectMembers([]byte(` {"iss": "a" ,"SUB_ID":{"format":"x"},"n":1.5e3,"l":[1,{"a":null}]} `))
	want := map[string]json.RawMessage{"iss": json.RawMessage(`"a"`), "SUB_ID": json.RawMessage(`{"format":"x"}`), "n": json.RawMessage(`1.5e3`), "l": json.RawMessage(`[1,{"a":null}]`)}
	if err != nil || !reflect.DeepEqual(m, want) {
		t.Errorf("objectMembers = %q, %v; want %q", m, err, want)
	}
	for _, p := range []string{
		`{"iss":"a","iss":"b"}`,
		`{"sub_id":{"format":"a","Format":"b"}}`,
		`{"events":{"e":{"x":1,"X":2}}}`,
		`{"a":"\ud800"}`,
		"{\"a\":\"\xff\"}",
		`{"a":1} {}`,
		`[{"a":1}]`,
		`"a"`,
		``,
	} {
		if m, err := objectMembers([]byte(p)); err == nil {
			t.Errorf("objectMembers(%q) = %q, want an error", p, m)
		}
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

// decodeHeader reads a decoded JWS header as the reader does for a kind
// that takes no jwk.
func decodeHeader(src string) (*jws, error) {
	var h jws
	err := h.readHeader(src, false)
	return &h, err
}

func TestDecodeHeader(t *testing.T) {
	h, err := decodeHeader(` {"alg":"RS256","kid":"k1","typ":"at+jwt","x":{"y":[1]}} `)
	if err != nil || h.alg != "RS256" || h.kid != "k1" || h.typ != "at+jwt" {
		t.Fatalf("decodeHeader = %+v, %v", h, err)
	}
	for _, p := range []string{`{"alg":"RS256","jku":null}`, `{"crit":[]}`, `{"jwk":{}}`, `{"x5u":"u"}`, `{"x5c":["c"]}`} {
		if _, err := decodeHeader(p); !errors.Is(err, ErrHeader) {
			t.Errorf("decodeHeader(%s) = %v, want the member refused", p, err)
		}
	}
	for _, p := range []string{`{"alg":"RS256","alg":"none"}`, `{"alg":1}`, `[]`, `{"alg":"RS256"`, `{"alg":"RS256"}{}`} {
		if _, err := decodeHeader(p); err == nil {
			t.Errorf("decodeHeader(%s) accepted", p)
		}
	}
	if _, err := decodeHeader(`{"ALG":"none","alg":"RS256"}`); err == nil {
		t.Errorf("decodeHeader accepted ALG next to alg")
	}
	if h, err := decodeHeader(`{"ALGORITHM":"none","alg":"RS256"}`); err != nil || h.alg != "RS256" {
		t.Errorf("header names must match exactly: %+v, %v", h, err)
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
		if alg, ok := m["alg"].(string); ok && alg != h.alg {
			t.Fatalf("alg %q, encoding/json %q", h.alg, alg)
		}
	})
}
