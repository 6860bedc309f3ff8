package bearer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

// The claims of a token that authorises one payment (RFC 9396), given by
// a client acting for alice through agent-7 (RFC 8693).
var paymentClaims = map[string]any{
	"sub":   "alice",
	"scope": "payments",
	"authorization_details": []any{map[string]any{
		"type":             "payment_initiation",
		"actions":          []string{"initiate"},
		"instructedAmount": map[string]string{"currency": "EUR", "amount": "123.50"},
		"creditorName":     "Merchant A",
	}},
	"act": map[string]any{"sub": "agent-7", "act": map[string]any{"sub": "planner"}},
}

// An entry's common members are fields; its type's own members are read
// from Raw.
func ExampleClaims_AuthorizationDetails() {
	c, err := bearer.NewClaims(paymentClaims) // as a validated token's
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range c.AuthorizationDetails() {
		var p struct {
			InstructedAmount struct{ Currency, Amount string } `json:"instructedAmount"`
			CreditorName     string                            `json:"creditorName"`
		}
		if err := json.Unmarshal(d.Raw, &p); err != nil {
			log.Fatal(err)
		}
		fmt.Println(d.Type, d.Actions, p.InstructedAmount.Amount, p.InstructedAmount.Currency, p.CreditorName)
	}
	// Output: payment_initiation [initiate] 123.50 EUR Merchant A
}

// The current actor comes first; the actors before it are a history.
func ExampleClaims_Actors() {
	c, err := bearer.NewClaims(paymentClaims)
	if err != nil {
		log.Fatal(err)
	}
	for i, a := range c.Actors() {
		fmt.Println(i, a.Subject)
	}
	// Output:
	// 0 agent-7
	// 1 planner
}

// A predicate says what scopes cannot: here, a payment of at most 500
// EUR. Its refusal names no policy; combined with scopes, it names the
// missing scopes only.
func ExamplePredicate() {
	smallPayment := bearer.Predicate(func(c *bearer.Claims) bool {
		for _, d := range c.AuthorizationDetails() {
			var p struct {
				InstructedAmount struct{ Currency, Amount string } `json:"instructedAmount"`
			}
			if d.Type != "payment_initiation" || json.Unmarshal(d.Raw, &p) != nil {
				continue
			}
			amount, err := strconv.ParseFloat(p.InstructedAmount.Amount, 64)
			if err == nil && p.InstructedAmount.Currency == "EUR" && amount <= 500 {
				return true
			}
		}
		return false
	})
	admin := bearer.Predicate(func(c *bearer.Claims) bool {
		var ext struct{ Roles []string }
		return c.Decode(&ext) == nil && slices.Contains(ext.Roles, "admin")
	})

	authority := bearertest.NewAuthority()
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	pay := middleware.New(v, middleware.Require(bearer.AllOf(bearer.AllOf("payments"), smallPayment)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	manage := middleware.New(v, middleware.Require(bearer.AnyOf(bearer.AllOf("admin"), admin)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	call := func(h http.Handler, claims bearertest.Payload) {
		claims["aud"] = "api"
		req := httptest.NewRequest("POST", "/", nil)
		req.Header.Set("Authorization", "Bearer "+authority.Token(claims))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("WWW-Authenticate"))))
	}
	details := func(amount string) []any {
		return []any{map[string]any{"type": "payment_initiation", "instructedAmount": map[string]string{"currency": "EUR", "amount": amount}}}
	}
	call(pay, bearertest.Payload{"scope": "payments", "authorization_details": details("123.50")})
	call(pay, bearertest.Payload{"scope": "payments", "authorization_details": details("600")})
	call(pay, bearertest.Payload{"authorization_details": details("600")})
	call(manage, bearertest.Payload{"roles": []string{"admin"}})
	call(manage, bearertest.Payload{"roles": []string{"user"}})
	// Output:
	// 200
	// 403 Bearer realm="api", error="insufficient_scope", error_description="insufficient privileges"
	// 403 Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="payments"
	// 200
	// 403 Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="admin"
}

// Only agent-7 may act for the user, who may also come alone.
func ExampleActedBy() {
	r := bearer.AnyOf(bearer.ActedBy("agent-7"), bearer.MaxDelegation(0))
	for _, act := range []any{
		nil,
		map[string]any{"sub": "agent-7"},
		map[string]any{"sub": "agent-9"},
		map[string]any{"sub": "agent-9", "act": map[string]any{"sub": "agent-7"}}, // agent-7 acted before: not considered
	} {
		claims := map[string]any{"sub": "alice"}
		if act != nil {
			claims["act"] = act
		}
		c, err := bearer.NewClaims(claims)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.Check(c) == nil)
	}
	// Output:
	// true
	// true
	// false
	// false
}
