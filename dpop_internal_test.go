package bearer

import (
	"testing"
	"time"
)

// TestDPoPHTUNormalisation: RFC 9449 §4.3 point 9 compares URIs after RFC
// 3986 §6.2.2 normalisation, without query and fragment.
func TestDPoPHTUNormalisation(t *testing.T) {
	for _, tc := range []struct {
		htu, request string
		same         bool
	}{
		{"https://api.example/values", "https://api.example/values", true},
		{"HTTPS://API.Example:443/values", "https://api.example/values", true},
		{"http://api.example:80/values", "http://api.example/values", true},
		{"https://api.example/values?a=1#f", "https://api.example/values?b=2", true},
		{"https://api.example/a/./b/../values", "https://api.example/a/values", true},
		{"https://api.example/%76alues", "https://api.example/values", true},
		{"https://api.example/a%2fb", "https://api.example/a%2Fb", true},
		{"https://api.example", "https://api.example/", true},
		{"https://api.example/a%2Fb", "https://api.example/a/b", false},
		{"https://api.example:8443/values", "https://api.example/values", false},
		{"http://api.example/values", "https://api.example/values", false},
		{"https://api.example/Values", "https://api.example/values", false},
		{"https://other.example/values", "https://api.example/values", false},
		{"https://user@api.example/values", "https://api.example/values", false},
		{"/values", "https://api.example/values", false},
		{"ftp://api.example/values", "ftp://api.example/values", false},
	} {
		if got := defaultDPoP.sameHTU(tc.htu, tc.request); got != tc.same {
			t.Errorf("sameHTU(%q, %q) = %v, want %v", tc.htu, tc.request, got, tc.same)
		}
	}
}

// TestDPoPThumbprintRFC7638: the example of RFC 7638 §3.1.
func TestDPoPThumbprintRFC7638(t *testing.T) {
	jwk := `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	_, thumbprint, err := parseProofKey(jwk)
	if err != nil || thumbprint != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("thumbprint %q, %v", thumbprint, err)
	}
}

// TestDPoPNonces: a nonce is accepted by any holder of the secret within
// its lifetime, and by no one else.
func TestDPoPNonces(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a, _ := newNonces(secret, time.Minute, time.Second)
	b, _ := newNonces(secret, time.Minute, time.Second)
	other, _ := newNonces([]byte("another secret, another secret!!"), time.Minute, time.Second)
	now := time.Now()
	n := a.issue(now)
	if n == a.issue(now) {
		t.Error("two nonces issued at once are equal: not unpredictable")
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"issuer", a.valid(n, now)},
		{"another replica", b.valid(n, now.Add(30*time.Second))},
	} {
		if !tc.ok {
			t.Errorf("%s refused the nonce", tc.name)
		}
	}
	for name, ok := range map[string]bool{
		"another secret":  other.valid(n, now),
		"expired":         a.valid(n, now.Add(time.Minute)),
		"issued ahead":    a.valid(a.issue(now.Add(time.Minute)), now),
		"altered":         a.valid(n[:len(n)-2]+"AA", now),
		"not base64url":   a.valid("!!", now),
		"empty":           a.valid("", now),
		"too short":       a.valid(n[:20], now),
		"with extra byte": a.valid(n+"AA", now),
	} {
		if ok {
			t.Errorf("%s: nonce accepted", name)
		}
	}
	if _, err := newNonces([]byte("short"), 0, 0); err == nil {
		t.Error("a short secret was accepted")
	}
}

// readProofHeader reads a decoded proof header as checkProof's reader does.
func readProofHeader(src string) (*jws, error) {
	var h jws
	err := h.readHeader(src, true)
	return &h, err
}

// TestDPoPProofMembersOnce: a proof whose header or claims name a member
// twice, in any case encoding/json would fold together, is malformed, so
// that no reader could see another value.
func TestDPoPProofMembersOnce(t *testing.T) {
	for _, obj := range []string{
		`{"htu":"a","htu":"b"}`,
		`{"htu":"a","HTU":"b"}`,
		`{"s":"a","ſ":"b"}`,
		`{"typ":"dpop+jwt","Typ":"JWT"}`,
	} {
		if _, err := readProofClaims(obj); err == nil {
			t.Errorf("claims %s accepted", obj)
		}
		if _, err := readProofHeader(obj); err == nil {
			t.Errorf("header %s accepted", obj)
		}
	}
	c, err := readProofClaims(`{"htu":"a","x":{"htu":"b"}}`)
	if err != nil || c.htu != "a" {
		t.Errorf("nested member of the same name: %v, htu %q", err, c.htu)
	}
}

// TestIssue26_5_ProofReaderExactNames: proof header, claim and key members are
// read by their exact names (RFC 7515 §4, RFC 7519 §4), as access tokens
// are: a name that equals one of them only when case is folded is
// refused, never read as that member, as encoding/json would.
func TestIssue26_5_ProofReaderExactNames(t *testing.T) {
	for _, obj := range []string{`{"Typ":"dpop+jwt"}`, `{"ALG":"ES256"}`, `{"Jwk":{}}`, `{"cRit":["x"]}`} {
		if h, err := readProofHeader(obj); err == nil {
			t.Errorf("header %s read as %+v", obj, h)
		}
	}
	for _, obj := range []string{`{"Htm":"GET"}`, `{"HTU":"https://api.example/"}`, `{"Jti":"x"}`, `{"IAT":1}`, `{"Ath":"x"}`, `{"Nonce":"x"}`} {
		if c, err := readProofClaims(obj); err == nil {
			t.Errorf("claims %s read as %+v", obj, c)
		}
	}
	for _, jwk := range []string{
		`{"Kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","D":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`,
	} {
		if _, _, err := parseProofKey(jwk); err == nil {
			t.Errorf("jwk %s accepted", jwk)
		}
	}
	if _, _, err := parseProofKey(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`); err != nil {
		t.Errorf("RFC 8037 key refused: %v", err)
	}
}
