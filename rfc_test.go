package bearer_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The tests here pin down, at the level of Validate, rules of the JOSE and
// OAuth RFCs that encoding/json would otherwise bend. The same cases run
// over HTTP, through every adapter, in internal/conformance.

// signRaw signs header and payload verbatim with a's RS256 key, after
// replacing {iss}, {kid} and {exp} (an hour from now).
func signRaw(a *bearertest.Authority, header, payload string) string {
	r := strings.NewReplacer("{iss}", a.Issuer(), "{kid}", a.KeyID("RS256"), "{exp}", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	return a.Sign("RS256", []byte(r.Replace(header)), []byte(r.Replace(payload)))
}

const (
	stdHeader  = `{"alg":"RS256","typ":"at+jwt","kid":"{kid}"}`
	stdPayload = `{"iss":"{iss}","aud":"api","sub":"alice","exp":{exp}}`
)

func TestRawTokenBaseline(t *testing.T) {
	a, v := attackSetup(t)
	mustValid(t, v, signRaw(a, stdHeader, stdPayload))
}

// TestDuplicateMembers: RFC 7515 §4 and RFC 7519 §4 let a parser refuse a
// name given twice; the library does, in the header and the payload,
// escaped or not, so that no other parser can read another token.
func TestDuplicateMembers(t *testing.T) {
	a, v := attackSetup(t)
	for name, tc := range map[string][2]string{
		"header alg":          {`{"alg":"RS256","typ":"at+jwt","kid":"{kid}","alg":"RS256"}`, stdPayload},
		"header kid, escaped": {`{"alg":"RS256","typ":"at+jwt","kid":"{kid}","\u006bid":"{kid}"}`, stdPayload},
		"header unknown":      {`{"alg":"RS256","typ":"at+jwt","kid":"{kid}","x":1,"x":1}`, stdPayload},
		"iss":                 {stdHeader, `{"iss":"https://evil.example","aud":"api","exp":{exp},"iss":"{iss}"}`},
		"exp":                 {stdHeader, `{"iss":"{iss}","aud":"api","exp":1,"exp":{exp}}`},
		"sub, escaped":        {stdHeader, `{"iss":"{iss}","aud":"api","exp":{exp},"sub":"alice","\u0073ub":"root"}`},
		"custom claim":        {stdHeader, `{"iss":"{iss}","aud":"api","exp":{exp},"role":"user","role":"admin"}`},
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, signRaw(a, tc[0], tc[1]), bearer.ErrInvalidToken, bearer.ErrMalformed)
		})
	}
	// The same names once each, escaped, are fine (RFC 8259 §7).
	mustValid(t, v, signRaw(a, stdHeader, `{"\u0069ss":"{iss}","a\u0075d":"api","exp":{exp}}`))
}

// TestClaimNamesAreCaseSensitive: RFC 7519 §7.3 compares names exactly;
// encoding/json, and so Claims.Decode, would take "ISS" (or "iſs", by
// Unicode folding) for iss. So a name that is a registered claim's only
// when case is folded is refused, as are two names in one object that are
// equal when case is folded (issue 18, finding 4).
func TestClaimNamesAreCaseSensitive(t *testing.T) {
	a, v := attackSetup(t)
	for name, payload := range map[string]string{
		"ISS":           `{"ISS":"{iss}","aud":"api","exp":{exp}}`,
		"Iss and iss":   `{"iss":"https://evil.example","Iss":"{iss}","aud":"api","exp":{exp}}`,
		"iſs":           `{"iſs":"{iss}","aud":"api","exp":{exp}}`,
		"AUD":           `{"iss":"{iss}","AUD":"api","exp":{exp}}`,
		"Exp":           `{"iss":"{iss}","aud":"api","Exp":{exp}}`,
		"EXP and exp ":  `{"iss":"{iss}","aud":"api","exp":1,"EXP":{exp}}`,
		"Role and role": `{"iss":"{iss}","aud":"api","exp":{exp},"role":"user","Role":"admin"}`,
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, signRaw(a, stdHeader, payload), bearer.ErrInvalidToken, bearer.ErrMalformed)
		})
	}
	// Header names too, as in every kind's header (jws.go): ALG next to
	// alg is refused, and so is a lone Crit or Typ, a member the reader
	// knows in another case; a name it does not know is ignored.
	mustFail(t, v, signRaw(a, `{"ALG":"none","alg":"RS256","typ":"at+jwt","kid":"{kid}"}`, stdPayload), bearer.ErrInvalidToken, bearer.ErrMalformed)
	mustFail(t, v, signRaw(a, `{"Crit":["exp"],"alg":"RS256","kid":"{kid}"}`, stdPayload), bearer.ErrInvalidToken, bearer.ErrMalformed)
	mustFail(t, v, signRaw(a, `{"Typ":"JWT","alg":"RS256","kid":"{kid}"}`, stdPayload), bearer.ErrInvalidToken, bearer.ErrMalformed)
	mustValid(t, v, signRaw(a, `{"Critical":["exp"],"alg":"RS256","kid":"{kid}"}`, stdPayload))
}

// TestInvalidUTF8: RFC 7519 §7.2 and RFC 7515 §5.2 want UTF-8 JSON.
func TestInvalidUTF8(t *testing.T) {
	a, v := attackSetup(t)
	for name, tc := range map[string][2]string{
		"payload string":  {stdHeader, "{\"iss\":\"{iss}\",\"aud\":\"api\",\"exp\":{exp},\"sub\":\"al\xffce\"}"},
		"payload name":    {stdHeader, "{\"iss\":\"{iss}\",\"aud\":\"api\",\"exp\":{exp},\"\xc3\x28\":1}"},
		"overlong":        {stdHeader, "{\"iss\":\"{iss}\",\"aud\":\"api\",\"exp\":{exp},\"sub\":\"\xc0\xaf\"}"},
		"surrogate":       {stdHeader, "{\"iss\":\"{iss}\",\"aud\":\"api\",\"exp\":{exp},\"sub\":\"\xed\xa0\x80\"}"},
		"header string":   {"{\"alg\":\"RS256\",\"kid\":\"{kid}\",\"x\":\"\xff\"}", stdPayload},
		"header and body": {"{\"alg\":\"RS256\",\"kid\":\"{kid}\",\"x\":\"\xff\"}", "{\"iss\":\"{iss}\",\"aud\":\"api\",\"exp\":{exp},\"sub\":\"\xff\"}"},
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, signRaw(a, tc[0], tc[1]), bearer.ErrInvalidToken, bearer.ErrMalformed)
		})
	}
	// Escaped, a lone surrogate is valid JSON text, which encoding/json
	// would make U+FFFD (RFC 8259 §8.2); I-JSON (RFC 7493 §2.1) forbids it,
	// and so does the library (issue 18, finding 8).
	mustFail(t, v, signRaw(a, stdHeader, `{"iss":"{iss}","aud":"api","exp":{exp},"sub":"\ud800"}`), bearer.ErrInvalidToken, bearer.ErrMalformed)
}

// TestOtherKindsOfJWT: RFC 8725 §3.11 and §3.12. An ID token, a logout
// token (with typ or only its events claim) and an introspection response
// are not access tokens, even signed by the authority.
func TestOtherKindsOfJWT(t *testing.T) {
	a, v := attackSetup(t)
	events := map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}
	for name, tc := range map[string]struct {
		header map[string]any
		claims bearertest.Payload
		reason error
	}{
		"ID token":                         {map[string]any{"typ": "JWT"}, bearertest.Payload{"aud": "spa", "nonce": "n", "at_hash": "x"}, bearer.ErrAudience},
		"logout token":                     {map[string]any{"typ": "logout+jwt"}, claims(bearertest.Payload{"events": events}), bearer.ErrTokenType},
		"logout token without typ":         {map[string]any{"typ": nil}, claims(bearertest.Payload{"events": events, "sid": "s"}), bearer.ErrTokenType},
		"logout token typ JWT":             {map[string]any{"typ": "JWT"}, claims(bearertest.Payload{"events": events}), bearer.ErrTokenType},
		"security event token, no typ":     {map[string]any{"typ": nil}, claims(bearertest.Payload{"events": map[string]any{"urn:example:event": map[string]any{"x": 1}}}), bearer.ErrTokenType},
		"introspection response":           {map[string]any{"typ": "token-introspection+jwt"}, claims(bearertest.Payload{"token_introspection": map[string]any{"active": true}}), bearer.ErrTokenType},
		"introspection response, media ty": {map[string]any{"typ": "application/token-introspection+jwt"}, claims(nil), bearer.ErrTokenType},
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, a.TokenWith("RS256", tc.header, tc.claims), bearer.ErrInvalidToken, tc.reason)
		})
	}
	// "events": null is no event.
	mustValid(t, v, signRaw(a, stdHeader, `{"iss":"{iss}","aud":"api","exp":{exp},"events":null}`))
}

// TestJWERefusedUnopened: RFC 7516 §9 tells a JWE by its five segments.
// Without introspection it is refused as malformed (in ModeJWT, and in
// ModeAuto without ClientID), and nothing is fetched or
// decrypted; with introspection it is the authority's to judge.
func TestJWERefusedUnopened(t *testing.T) {
	a, v := attackSetup(t)
	jwtOnly := newValidator(t, a, bearer.Config{Mode: bearer.ModeJWT})
	jwe := enc.EncodeToString([]byte(`{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"`+a.KeyID("RS256")+`"}`)) + ".AAAA.AAAA.AAAA.AAAA"
	a.ResetHits()
	mustFail(t, v, jwe, bearer.ErrInvalidToken, bearer.ErrMalformed)
	mustFail(t, jwtOnly, jwe, bearer.ErrInvalidToken, bearer.ErrMalformed)
	if n := a.Hits(bearertest.JWKS) + a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("a JWE caused %d requests to the authority", n)
	}
	both := newValidator(t, a, bearer.Config{ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
	mustFail(t, both, jwe, bearer.ErrInvalidToken, bearer.ErrInactive)
}

// TestIntrospectionActiveShapes: RFC 7662 §2.2 makes active a boolean;
// only the JSON true, under exactly that name and once, is active.
func TestIntrospectionActiveShapes(t *testing.T) {
	a := bearertest.New(t)
	var body string
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.ReplaceAll(body, "{iss}", a.Issuer())))
	}))
	defer endpoint.Close()
	claimsJSON := `"sub":"alice","aud":"api","iss":"{iss}","exp":` + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	for _, tc := range []struct {
		body string
		want error // nil: active
	}{
		{`{"active":true,` + claimsJSON + `}`, nil},
		{`{"active":false,` + claimsJSON + `}`, bearer.ErrInactive},
		{`{"active":"true",` + claimsJSON + `}`, bearer.ErrInactive},
		{`{"active":1,` + claimsJSON + `}`, bearer.ErrInactive},
		{`{"active":null,` + claimsJSON + `}`, bearer.ErrInactive},
		{`{"active":[true],` + claimsJSON + `}`, bearer.ErrInactive},
		{`{` + claimsJSON + `}`, bearer.ErrInactive},
		{`{"active":false,"exp":"garbage is fine when inactive"}`, bearer.ErrInactive},
		{`{"exp":"garbage","active":false,"scope":7}`, bearer.ErrInactive},
		{`{"exp":"garbage","sub":"alice","aud":"api","iss":"{iss}","active":true}`, bearer.ErrUnavailable},
		{`{"active":true,"scope":["read",5],` + claimsJSON + `}`, bearer.ErrUnavailable},
		{`{"active":false,"exp":"garbage","x":tru}`, bearer.ErrUnavailable},
		{`{"active":tru,` + claimsJSON + `}`, bearer.ErrUnavailable},
		{`{"active":false,` + claimsJSON + `,"active":true}`, bearer.ErrUnavailable},
		{`{"active":true,"\u0061ctive":false,` + claimsJSON + `}`, bearer.ErrUnavailable},
		{`{"Active":true,` + claimsJSON + `}`, bearer.ErrUnavailable},
		{`{"ACTIVE":true,"active":false,` + claimsJSON + `}`, bearer.ErrUnavailable},
		{`{"active":true,"ISS":"https://evil.example",` + claimsJSON + `}`, bearer.ErrUnavailable},
		{`{"active":true,"sub":"a","sub":"b",` + claimsJSON[len(`"sub":"alice",`):] + `}`, bearer.ErrUnavailable},
		{`[{"active":true}]`, bearer.ErrUnavailable},
	} {
		t.Run(tc.body, func(t *testing.T) {
			body = tc.body
			v := newValidator(t, a, bearer.Config{ClientID: "api", ClientSecret: "secret", IntrospectionEndpoint: endpoint.URL, Logger: slog.New(slog.DiscardHandler)})
			_, err := v.Validate(context.Background(), "reference-token-0123456789")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
}
