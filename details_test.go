package bearer_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// payment is an RFC 9396 §2 example entry with a type-specific member.
var payment = map[string]any{
	"type":             "payment_initiation",
	"locations":        []string{"https://example.com/payments"},
	"actions":          []string{"initiate", "status"},
	"instructedAmount": map[string]any{"currency": "EUR", "amount": "123.50"},
	"creditorName":     "Merchant A",
}

var account = map[string]any{
	"type":       "account_information",
	"datatypes":  []string{"balances"},
	"identifier": "acct-1",
	"privileges": []string{"read"},
}

// TestAuthorizationDetailsRead: a JWT's and an introspection answer's
// authorization_details, cached or not, come out typed, with each entry's
// raw JSON for the members of its type.
func TestAuthorizationDetailsRead(t *testing.T) {
	a := bearertest.New(t)
	jwt := newValidator(t, a, bearer.Config{})
	ref := newValidator(t, a, introspectionConfig(bearer.Config{}))
	signed := newValidator(t, a, introspectionConfig(bearer.Config{IntrospectionJWT: true}))
	p := claims(bearertest.Payload{"authorization_details": []any{payment, account}})
	jwtTok, refTok := a.Token(p), a.ReferenceToken(p)
	for _, tc := range []struct {
		name string
		v    *bearer.Validator
		tok  string
	}{
		{"jwt", jwt, jwtTok}, {"jwt, cached", jwt, jwtTok},
		{"introspected", ref, refTok}, {"introspected, cached", ref, refTok},
		{"introspected, signed answer (RFC 9701)", signed, a.ReferenceToken(p)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustValid(t, tc.v, tc.tok).AuthorizationDetails()
			if len(got) != 2 {
				t.Fatalf("%d details, want 2", len(got))
			}
			want := bearer.AuthorizationDetail{Type: "payment_initiation", Locations: []string{"https://example.com/payments"}, Actions: []string{"initiate", "status"}}
			d := got[0]
			d.Raw = nil
			if !reflect.DeepEqual(d, want) {
				t.Errorf("first detail %+v, want %+v", d, want)
			}
			var amount struct {
				InstructedAmount struct{ Currency, Amount string } `json:"instructedAmount"`
			}
			if err := json.Unmarshal(got[0].Raw, &amount); err != nil || amount.InstructedAmount.Amount != "123.50" {
				t.Errorf("raw %s: %+v, %v", got[0].Raw, amount, err)
			}
			want = bearer.AuthorizationDetail{Type: "account_information", Datatypes: []string{"balances"}, Identifier: "acct-1", Privileges: []string{"read"}}
			d = got[1]
			d.Raw = nil
			if !reflect.DeepEqual(d, want) {
				t.Errorf("second detail %+v, want %+v", d, want)
			}
		})
	}
	if got := mustValid(t, jwt, a.Token(claims(nil))).AuthorizationDetails(); got != nil {
		t.Errorf("details of a token without them: %+v", got)
	}
	if got := (&bearer.Claims{}).AuthorizationDetails(); got != nil {
		t.Errorf("details of hand-made claims: %+v", got)
	}
}

// badDetails are authorization_details values RFC 9396 §2 does not allow.
var badDetails = map[string]string{
	"an object":             `{"type":"a"}`,
	"a string":              `"payment_initiation"`,
	"an entry not object":   `["payment_initiation"]`,
	"an entry without type": `[{"actions":["read"]}]`,
	"a null type":           `[{"type":null}]`,
	"a number type":         `[{"type":7}]`,
	"a string location":     `[{"type":"a","locations":"https://x"}]`,
	"a number in actions":   `[{"type":"a","actions":["read",1]}]`,
	"identifier an array":   `[{"type":"a","identifier":["x"]}]`,
	"two types":             `[{"type":"a","type":"b"}]`,
	"type in another case":  `[{"type":"a","Type":"b"}]`,
	"second entry bad":      `[{"type":"a"},{}]`,
}

// TestMalformedAuthorizationDetailsRefused: a JWT with authorization_details
// of the wrong shape is malformed (401), as a wrongly typed exp is; an
// introspection answer with them is an unusable answer (503), as any
// wrongly typed member of an active answer is. Trusting what an authority
// failed to structure, or reading it as absent, could grant what it never
// meant to.
func TestMalformedAuthorizationDetailsRefused(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	in := newValidator(t, a, introspectionConfig(bearer.Config{}))
	for name, bad := range badDetails {
		t.Run(name, func(t *testing.T) {
			payload := `{"iss":"` + a.Issuer() + `","aud":"api","exp":4102444800,"authorization_details":` + bad + `}`
			e := mustFail(t, v, a.Sign("RS256", []byte(`{"alg":"RS256","typ":"at+jwt","kid":"`+a.KeyID("RS256")+`"}`), []byte(payload)), bearer.ErrInvalidToken, bearer.ErrMalformed)
			if e.Status != http.StatusUnauthorized {
				t.Errorf("JWT: status %d", e.Status)
			}
			a.SetBody(bearertest.Introspection, []byte(`{"active":true,"aud":"api","authorization_details":`+bad+`}`))
			defer a.SetBody(bearertest.Introspection, nil)
			mustFail(t, in, a.ReferenceToken(nil), bearer.ErrUnavailable, nil)
		})
	}
	// null, like absence, is no details; an empty array is no entries.
	for _, ok := range []string{`null`, `[]`, `[{"type":"a","actions":null,"x":{"y":[1,{"z":null}]}}]`} {
		payload := `{"iss":"` + a.Issuer() + `","aud":"api","exp":4102444800,"authorization_details":` + ok + `}`
		mustValid(t, v, a.Sign("RS256", []byte(`{"alg":"RS256","typ":"at+jwt","kid":"`+a.KeyID("RS256")+`"}`), []byte(payload)))
	}
}

// TestNewClaimsDetails: NewClaims reads authorization_details as a token
// does, refusing those a Validator refuses.
func TestNewClaimsDetails(t *testing.T) {
	c, err := bearer.NewClaims(map[string]any{"authorization_details": []any{account}})
	if err != nil || len(c.AuthorizationDetails()) != 1 || c.AuthorizationDetails()[0].Identifier != "acct-1" {
		t.Fatalf("NewClaims: %v", err)
	}
	if _, err := bearer.NewClaims(map[string]any{"authorization_details": []any{map[string]any{"actions": []string{"x"}}}}); err == nil {
		t.Error("NewClaims accepted an entry without type")
	}
	if _, err := bearer.NewClaims(map[string]any{"AUTHORIZATION_DETAILS": []any{}}); err == nil {
		t.Error("NewClaims accepted authorization_details in another case, which Decode would read as it")
	}
}
