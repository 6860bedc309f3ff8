package bearer_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/conformance"
)

// fuzzEnv is an authority to mint seeds and a validator of its tokens
// with static keys: fuzzing Validate makes no request to anyone.
type fuzzEnv struct {
	env *conformance.Env
	v   *bearer.Validator
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	env := conformance.NewEnv(f)
	a := env.Authority
	// PEM keys have no kid, so they fit tokens with any kid: the fuzzer
	// reaches the signature check whatever it does to the header.
	var keys []byte
	for _, alg := range []string{"RS256", "ES256", "ES384", "ES512", "EdDSA"} {
		der, err := x509.MarshalPKIXPublicKey(a.PublicKey(alg))
		if err != nil {
			f.Fatal(err)
		}
		keys = append(keys, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...)
	}
	v, err := bearer.New(context.Background(), bearer.Config{
		Authority: a.Issuer(), Audience: []string{"api"}, StaticKeys: keys, Mode: bearer.ModeJWT,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { v.Close() })
	return &fuzzEnv{env: env, v: v}
}

// seedTokens are the tokens of the conformance table's standard setup.
func (e *fuzzEnv) seedTokens() []string {
	var out []string
	for _, c := range conformance.Cases() {
		if c.Token != nil && (c.Setup == conformance.Standard || c.Setup == conformance.Unreachable) {
			out = append(out, e.env.Token(c))
		}
	}
	return out
}

// checkError: every failure of Validate is an *Error of a known kind,
// and with static keys never an unavailable authority.
func checkError(t *testing.T, err error) {
	t.Helper()
	var e *bearer.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is no *bearer.Error", err, err)
	}
	if !errors.Is(err, bearer.ErrInvalidToken) && !errors.Is(err, bearer.ErrNoToken) {
		t.Fatalf("error %v: neither invalid token nor no token", err)
	}
	if e.Status != 401 {
		t.Fatalf("status %d for %v", e.Status, err)
	}
}

// FuzzValidate feeds Validate arbitrary strings, seeded with every token
// of the conformance table. Nothing may panic, every failure is a 401,
// and a second Validate (served by the cache, if the first succeeded)
// must agree with the first.
func FuzzValidate(f *testing.F) {
	e := newFuzzEnv(f)
	for _, t := range e.seedTokens() {
		f.Add(t)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c1, err1 := e.v.Validate(context.Background(), token)
		c2, err2 := e.v.Validate(context.Background(), token)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("Validate disagrees with itself: %v, then %v", err1, err2)
		}
		if err1 != nil {
			checkError(t, err1)
			return
		}
		if c1.Subject != c2.Subject || c1.Issuer != e.env.Authority.Issuer() || !slices.Contains(c1.Audience, "api") {
			t.Fatalf("accepted claims %+v", c1)
		}
	})
}

// member is one top-level member of a JSON object, in order.
type member struct {
	name  string
	value json.RawMessage
}

// members walks a JSON object with encoding/json's tokenizer, which
// keeps every member and its exact name.
func members(b []byte) ([]member, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []member
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, member{tok.(string), v})
	}
	if _, err := d.Token(); err != nil {
		return nil, false
	}
	if _, err := d.Token(); err == nil {
		return nil, false // trailing data
	}
	return out, true
}

// lookup returns the value of the one member named exactly name.
func lookup(ms []member, name string) (json.RawMessage, bool) {
	for _, m := range ms {
		if m.name == name {
			return m.value, true
		}
	}
	return nil, false
}

// numericDate reads a NumericDate as a reference would.
func numericDate(v json.RawMessage) (float64, bool) {
	var n json.Number
	if json.Unmarshal(v, &n) != nil {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil && !math.IsInf(f, 0)
}

// FuzzValidateSigned signs arbitrary headers and payloads with the
// authority's EdDSA key, so that the fuzzer gets past the signature into
// the header rules and the claims. Whatever Validate accepts is checked
// against a reference reading of RFC 7515, 7519 and 9068: UTF-8 JSON
// objects with unique, exactly named members; alg EdDSA and no member
// that picks a key; an access token typ or none; iss the issuer; aud
// naming the API; exp, nbf and iat within the leeway; no events.
func FuzzValidateSigned(f *testing.F) {
	e := newFuzzEnv(f)
	a := e.env.Authority
	exp := time.Now().Add(24 * time.Hour).Unix()
	payload := func(extra string) string {
		return `{"iss":"` + a.Issuer() + `","aud":"api","sub":"alice","exp":` + jsonInt(exp) + extra + `}`
	}
	header := `{"alg":"EdDSA","typ":"at+jwt","kid":"k"}`
	for _, s := range [][2]string{
		{header, payload("")},
		{`{"alg":"EdDSA"}`, payload(`,"scope":"read write","scp":["a"],"nbf":1,"iat":1,"cnf":{"jkt":"x"}`)},
		{`{"alg":"EdDSA","typ":"JWT","crit":["x"]}`, payload("")},
		{`{"alg":"EdDSA","alg":"EdDSA"}`, payload("")},
		{`{"alg":"EdDSA","ALG":"none"}`, payload(`,"ISS":"x","Aud":"y"`)},
		{header, payload(`,"iss":"` + a.Issuer() + `"`)},
		{header, payload(`,"events":{"x":{}}`)},
		{header, "{\"iss\":\"" + a.Issuer() + "\",\"aud\":[\"x\",\"api\"],\"exp\":1e10,\"sub\":\"\xff\"}"},
		{header, `{"iss":"` + a.Issuer() + `","aud":"api","exp":` + jsonInt(exp) + `.5e0}`},
		{header, `[` + payload("") + `]`},
		{`{"alg":"EdDSA","typ":"logout+jwt"}`, payload("")},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	const leeway = bearer.DefaultLeeway / time.Second
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		token := a.Sign("EdDSA", header, payload)
		c, err := e.v.Validate(context.Background(), token)
		if err != nil {
			checkError(t, err)
			return
		}
		fail := func(why string) {
			t.Helper()
			t.Fatalf("accepted (%s): header %q payload %q claims %+v", why, header, payload, c)
		}
		if !json.Valid(header) || !json.Valid(payload) {
			fail("not JSON")
		}
		hs, ok1 := members(header)
		ps, ok2 := members(payload)
		if !ok1 || !ok2 {
			fail("not JSON objects")
		}
		if !bytes.Equal(header, bytes.ToValidUTF8(header, nil)) || !bytes.Equal(payload, bytes.ToValidUTF8(payload, nil)) {
			fail("invalid UTF-8")
		}
		for _, ms := range [][]member{hs, ps} {
			seen := map[string]bool{}
			for _, m := range ms {
				if seen[m.name] {
					fail("duplicate member " + m.name)
				}
				seen[m.name] = true
			}
		}
		if alg, _ := lookup(hs, "alg"); string(alg) != `"EdDSA"` {
			fail("alg")
		}
		for _, name := range []string{"crit", "jwk", "jku", "x5u", "x5c"} {
			if _, ok := lookup(hs, name); ok {
				fail(name)
			}
		}
		if typ, ok := lookup(hs, "typ"); ok && string(typ) != "null" {
			var s string
			_ = json.Unmarshal(typ, &s)
			if t := strings.ToLower(s); t != "" && t != "jwt" && t != "application/jwt" && t != "at+jwt" && t != "application/at+jwt" {
				fail("typ " + s)
			}
		}
		var iss string
		if v, _ := lookup(ps, "iss"); json.Unmarshal(v, &iss) != nil || iss != a.Issuer() {
			fail("iss")
		}
		aud, _ := lookup(ps, "aud")
		var one string
		var list []string
		if !(json.Unmarshal(aud, &one) == nil && one == "api") && !(json.Unmarshal(aud, &list) == nil && slices.Contains(list, "api")) {
			fail("aud")
		}
		now := float64(time.Now().Unix())
		v, _ := lookup(ps, "exp")
		if x, ok := numericDate(v); !ok || x <= now-float64(leeway)-5 {
			fail("exp")
		}
		for _, name := range []string{"nbf", "iat"} {
			if v, ok := lookup(ps, name); ok && string(v) != "null" {
				if x, ok := numericDate(v); !ok || x > now+float64(leeway)+5 {
					fail(name)
				}
			}
		}
		if v, ok := lookup(ps, "events"); ok && string(v) != "null" {
			fail("events")
		}
	})
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
