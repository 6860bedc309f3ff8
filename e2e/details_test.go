//go:build unix

package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// smallPayment is the payments API's rule: the token must authorise
// payment initiation (RFC 9396), every payment it authorises in EUR and
// of at most 500.
var smallPayment = bearer.Predicate(func(c *bearer.Claims) bool {
	n := 0
	for _, d := range c.AuthorizationDetails() {
		if d.Type != "payment_initiation" {
			continue
		}
		var p struct {
			InstructedAmount struct{ Currency, Amount string } `json:"instructedAmount"`
		}
		if json.Unmarshal(d.Raw, &p) != nil || p.InstructedAmount.Currency != "EUR" {
			return false
		}
		amount, err := strconv.ParseFloat(p.InstructedAmount.Amount, 64)
		if err != nil || amount > 500 {
			return false
		}
		n++
	}
	return n > 0
})

// paymentsServer serves POST /payments behind the bearer middleware,
// requiring scope api and smallPayment; the handler answers with the
// creditor of the detail it was given.
func paymentsServer(t testing.TB, v *bearer.Validator) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST /payments", middleware.New(v, middleware.Require(bearer.AllOf("api")), middleware.Require(smallPayment))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := bearer.ClaimsFromContext(r.Context())
		var p struct {
			Creditor string `json:"creditorName"`
		}
		_ = json.Unmarshal(c.AuthorizationDetails()[0].Raw, &p)
		_ = json.NewEncoder(w).Encode(map[string]string{"paid": p.Creditor})
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/payments"
}

// tokenWithDetails gets an access token for svc with authorization_details
// (a JSON array, or "" for none), as a Rich Authorization Request.
func (a *authority) tokenWithDetails(scope, resource, details string) string {
	a.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "resource": {resource}}
	if details != "" {
		form.Set("authorization_details", details)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if status := a.post("/token", "svc", svcSecret, form, &out); status != http.StatusOK || out.AccessToken == "" {
		a.t.Fatalf("token with details %s: %d %s %s", details, status, out.Error, out.Description)
	}
	return out.AccessToken
}

func payment(amount string) string {
	return `[{"type":"payment_initiation","actions":["initiate"],"locations":["https://api.example/payments"],` +
		`"instructedAmount":{"currency":"EUR","amount":"` + amount + `"},"creditorName":"Merchant A"}]`
}

// TestAuthorizationDetailsEnforced: node-oidc-provider grants Rich
// Authorization Requests (RFC 9396) into JWTs and introspection answers;
// the API reads them and enforces a rule on their type-specific members,
// refusing with a 403 that does not say what the rule looked for.
func TestAuthorizationDetailsEnforced(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	api := paymentsServer(t, a.validator(withIntrospection(0)))
	for _, res := range []struct{ name, resource string }{{"JWT", apiResource}, {"reference token", referenceResource}} {
		small := a.tokenWithDetails("api", res.resource, payment("123.50"))
		if jwt := strings.Count(small, ".") == 2; jwt != (res.resource == apiResource) {
			t.Fatalf("%s: the authority issued the wrong kind of token", res.name)
		}
		for _, tc := range []struct {
			what   string
			token  string
			status int
		}{
			{"a payment of 123.50 EUR", small, http.StatusOK},
			{"the same token again (cached)", small, http.StatusOK},
			{"a payment of 600 EUR", a.tokenWithDetails("api", res.resource, payment("600")), http.StatusForbidden},
			{"no authorization details", a.tokenWithDetails("api", res.resource, ""), http.StatusForbidden},
		} {
			req, _ := http.NewRequest(http.MethodPost, api, nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			what := res.name + ", " + tc.what
			if resp.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d (%s)", what, resp.StatusCode, tc.status, resp.Header.Get("WWW-Authenticate"))
				continue
			}
			switch ch := resp.Header.Get("WWW-Authenticate"); {
			case tc.status == http.StatusOK && body["paid"] != "Merchant A":
				t.Errorf("%s: the handler read %v from the details", what, body)
			case tc.status == http.StatusForbidden && ch != `Bearer realm="api", error="insufficient_scope", error_description="insufficient privileges"`:
				t.Errorf("%s: challenge %s", what, ch)
			}
		}
	}
}
