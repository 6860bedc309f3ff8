package bearer

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// Fuzz targets for the parsers of what the authority sends: the JWK Set,
// static keys, the discovery document and introspection responses, and
// for scope claims and the challenge quoting. Each must never panic, and
// what it accepts must obey the rules it exists to enforce. scripts/fuzz.sh
// runs them; under go test they run their seeds.

var jwksSeeds = []string{
	`{"keys":[]}`,
	`{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","use":"sig","alg":"ES256"}]}`,
	`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
	`{"keys":[{"kty":"RSA","kid":"r","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}]}`,
	`{"keys":[{"kty":"RSA","kid":"broken","n":"!!!","e":"AQAB"},{"kty":"oct","k":"c2VjcmV0"},"x",null,1]}`,
	`{"keys":[{"kty":"EC","crv":"P-192","x":"AA","y":"AA"},{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}]}`,
	`{"keys":[{"kty":"RSA","e":"AQAB","n":"AQAB","x5u":"https://evil.example/cert"}]}`,
	`{"keys":{}}`, `{}`, `[]`, `null`, `{"keys":[`, ``,
}

// FuzzParseJWKS: a key set, however odd, yields only keys that can be
// used to verify, and never an RSA key under 2048 bits.
func FuzzParseJWKS(f *testing.F) {
	for _, s := range jwksSeeds {
		f.Add([]byte(s))
	}
	if odd, err := os.ReadFile("testdata/jwks/odd-keys.json"); err == nil {
		f.Add(odd)
	}
	reasons := []string{skipMalformed, skipSymmetric, skipKeyType, skipCurve, skipEncryption, skipAlgorithm, skipWeak}
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, skipped, err := parseJWKS(body)
		if err != nil && len(keys) > 0 {
			t.Fatalf("error %v with %d keys", err, len(keys))
		}
		// Each skipped key has a reason from the closed set: they are
		// a metric's labels.
		for _, k := range skipped {
			if !slices.Contains(reasons, k.reason) {
				t.Fatalf("key %d skipped for %q: %v", k.index, k.reason, k.err)
			}
		}
		for _, k := range keys {
			if _, err := newPublicKey(k.kid, k.alg, k.use, k.ops, k.key); err != nil {
				t.Fatalf("unusable key accepted: %v", err)
			}
		}
		// Static keys take the same JSON, and PEM.
		if keys, err := parseStaticKeys(body); err == nil && len(keys) == 0 {
			t.Fatal("parseStaticKeys: no error and no key")
		}
	})
}

var metadataSeeds = []string{
	`{"issuer":"https://login.example.com/tenant","jwks_uri":"https://login.example.com/tenant/jwks","introspection_endpoint":"https://login.example.com/tenant/introspect"}`,
	`{"issuer":"https://login.example.com/tenant/","jwks_uri":"https://keys.example.net/jwks"}`,
	`{"issuer":"https://login.example.com/tenant","jwks_uri":"http://login.example.com/tenant/jwks"}`,
	`{"issuer":"https://impostor.example","jwks_uri":"https://impostor.example/jwks"}`,
	`{"issuer":"https://login.example.com/tenant","jwks_uri":"/jwks"}`,
	`{"issuer":"https://login.example.com/tenant","jwks_uri":"file:///etc/passwd"}`,
	`{"issuer":42}`, `{"ISSUER":"https://login.example.com/tenant"}`, `[]`, ``,
}

// FuzzParseMetadata: an accepted discovery document names the configured
// issuer and endpoints that are absolute https URLs.
func FuzzParseMetadata(f *testing.F) {
	const authority = "https://login.example.com/tenant"
	for _, s := range metadataSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		md, err := parseMetadata(body, authority)
		if err != nil {
			return
		}
		if strings.TrimSuffix(md.Issuer, "/") != authority {
			t.Fatalf("issuer %q accepted for %q", md.Issuer, authority)
		}
		for _, e := range []string{md.JWKSURI, md.IntrospectionEndpoint} {
			if e != "" && checkEndpoint(e, true) != nil {
				t.Fatalf("endpoint %q accepted", e)
			}
		}
	})
}

var resultSeeds = []string{
	`{"active":true,"sub":"alice","aud":"api","iss":"https://a.example","exp":1893456000,"scope":"read write","client_id":"c","username":"alice","token_type":"Bearer"}`,
	`{"active":false}`, `{"active":"true"}`, `{"active":1}`, `{"active":null}`, `{}`,
	`{"active":false,"exp":"garbage"}`, `{"active":true,"exp":"garbage"}`,
	`{"active":false,"active":true}`, `{"Active":true}`, `{"\u0061ctive":true}`,
	`{"active":true,"scp":["a",""],"cnf":{"x5t#S256":"x"}}`,
	`[{"active":true}]`, `"active"`, ``,
	// One reading only (issue 18, findings 4 and 8).
	`{"active":true,"sub":"alice","SUB":"admin"}`, `{"active":true,"cnf":{"jkt":"a","JKT":"b"}}`,
	`{"active":true,"tenant":"a","Tenant":"b"}`, `{"active":true,"sub":"\ud800"}`, `{"active":false,"x":"\udfff"}`,
	"{\"active\":true,\"sub\":\"\xff\"}", `{"active":true,"sub":"\ud83d\ude00"}`,
}

// activeMember returns the value of body's top-level member named
// exactly "active", and whether some top-level name came twice, by a
// plain json.Decoder walk: the reference parseResult must agree with.
func activeMember(body []byte) (active json.RawMessage, duplicate bool, ok bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, false, false
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, false, false
		}
		name := tok.(string)
		duplicate = duplicate || seen[name]
		seen[name] = true
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false, false
		}
		if name == "active" {
			active = v
		}
	}
	return active, duplicate, true
}

// FuzzParseResult: a response is active only if its member named exactly
// active, given once, is the JSON true; an active Result survives a round
// trip through encoding/json, as custom IntrospectionCaches need.
func FuzzParseResult(f *testing.F) {
	for _, s := range resultSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := parseResult(string(body))
		if err != nil {
			return
		}
		checkOneReading(t, body, resultMembers)
		active, duplicate, ok := activeMember(body)
		if !ok {
			t.Fatalf("accepted what encoding/json cannot walk: %q", body)
		}
		if res.Active && (duplicate || !bytes.Equal(bytes.TrimSpace(active), []byte("true"))) {
			t.Fatalf("active, with active member %q (duplicate names: %v): %q", active, duplicate, body)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil || back.Active != res.Active {
			t.Fatalf("round trip: %v, active %v then %v", err, res.Active, back.Active)
		}
	})
}

// referenceScopes reads a scope claim by RFC 6749 §3.3, written plainly:
// a string is split on U+0020 alone, an array's elements are taken whole,
// and only scope-tokens (%x21 / %x23-5B / %x5D-7E) are kept.
func referenceScopes(claim []byte) ([]string, bool) {
	var v any
	if json.Unmarshal(claim, &v) != nil {
		return nil, false
	}
	var pieces []string
	switch v := v.(type) {
	case nil:
	case string:
		pieces = strings.Split(v, " ")
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			pieces = append(pieces, s)
		}
	default:
		return nil, false
	}
	var out []string
	for _, p := range pieces {
		ok := p != ""
		for _, c := range []byte(p) {
			ok = ok && c >= 0x21 && c <= 0x7e && c != '"' && c != '\\'
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, true
}

// FuzzScopes: a scope claim gives exactly the scope-tokens the reference
// reading finds (no other white space splits, nothing else is granted),
// and requirements, split on spaces alone, match as sets do.
func FuzzScopes(f *testing.F) {
	for _, s := range [][2]string{
		{`"read write"`, "read"}, {`["read","write"]`, "write admin"}, {`"  read  write "`, "read"},
		{`["read write"]`, "read"}, {`["",""]`, ""}, {`null`, "x"}, {`5`, "x"}, {`"READ"`, "read"},
		{`["a","a"]`, "a a"}, {`"\u00a0read"`, "read"},
		// Other white space separates nothing: the old strings.Fields
		// split made admin of these (issue 18, finding 2).
		{`"files:read\u00a0admin"`, "admin"}, {`"read\twrite\n"`, "write"}, {`"a\u2028admin"`, "admin"},
		{`"a\u0085admin\u3000b"`, "admin"}, {`["admin\u2003"]`, "admin"}, {`"ad\"min"`, `ad"min`},
		{`"read write"`, "read\twrite"}, {`"read"`, "\u00a0read"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, claim, required string) {
		var granted scopeList
		if err := json.Unmarshal([]byte(claim), &granted); err != nil {
			return
		}
		want, ok := referenceScopes([]byte(claim))
		if !ok || !slices.Equal(granted, want) {
			t.Fatalf("scopes of %q: %q, want %q", claim, granted, want)
		}
		// The claims decoder reads scope and scp the same way.
		w, err := decodeClaims(`{"scope":` + claim + `}`)
		if errors.Is(err, errNotIJSON) {
			return // a lone surrogate or invalid UTF-8: refused, as it should be
		}
		if err != nil {
			t.Fatalf("decodeClaims refused the claim %q: %v", claim, err)
		}
		if c := w.claims(""); !slices.Equal(c.Scopes, want) && !(len(c.Scopes) == 0 && len(want) == 0) {
			t.Fatalf("decodeClaims: scopes of %q: %q, want %q", claim, c.Scopes, want)
		}
		var req []string
		for _, r := range strings.Split(required, " ") {
			if r != "" {
				req = append(req, r)
			}
		}
		anyOK, allOK := len(req) == 0, true
		for _, r := range req {
			has := slices.Contains(granted, r)
			anyOK = anyOK || has
			allOK = allOK && has
		}
		if r := AnyOf(required); r.scopesMet(granted) != anyOK {
			t.Fatalf("AnyOf(%q).scopesMet(%q) = %v", required, granted, !anyOK)
		}
		if r := AllOf(required); r.scopesMet(granted) != allOK {
			t.Fatalf("AllOf(%q).scopesMet(%q) = %v", required, granted, !allOK)
		}
	})
}

// FuzzChallenge: whatever a description, scope or resource_metadata
// holds, the challenge stays one well-formed header value (RFC 6750 §3).
func FuzzChallenge(f *testing.F) {
	for _, s := range []string{"token expired", `a"b\c`, "line\r\nInjected: yes", "ünïcödé", ""} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, description, scope string) {
		e := &Error{Status: 403, Code: codeInsufficientScope, Description: description, Scope: scope, kind: ErrInsufficientScope}
		c := e.render("Bearer", "", "api", []ChallengeParam{ResourceMetadata(scope)})
		if !strings.HasPrefix(c, `Bearer realm="api"`) {
			t.Fatalf("challenge %q", c)
		}
		// Every quoted value holds only %x20-21 / %x23-5B / %x5D-7E.
		for _, r := range c {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("challenge %q has %q", c, r)
			}
		}
		if n := strings.Count(c, `"`); n%2 != 0 || strings.Contains(c, `\`) {
			t.Fatalf("challenge %q breaks its quotes", c)
		}
	})
}
