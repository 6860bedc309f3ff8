package conformance

import (
	"encoding/json"
	"strconv"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// privileges is the refusal of an unmet predicate: a 403 that names no
// scope and nothing of the rule.
var privileges = refused(403, `Bearer realm="api", error="insufficient_scope", error_description="insufficient privileges"`,
	`{"error":"insufficient_scope","error_description":"insufficient privileges"}`)

// smallPayment: the token authorises a payment_initiation of at most 500
// EUR (RFC 9396).
var smallPayment = bearer.Predicate(func(c *bearer.Claims) bool {
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

// detailsCases are the cases of issue 30 on what a token authorises
// beyond scopes: authorization_details (RFC 9396) and actors (RFC 8693),
// read strictly, and requirements over them.
func detailsCases(add func(ref string, cs ...Case)) {
	global := Guard{Scope: Global}
	auth := []string{bearerTk}
	payment := map[string]any{"type": "payment_initiation", "instructedAmount": map[string]any{"currency": "EUR", "amount": "123.50"}}
	details := func(d any) func(a *bearertest.Authority) string {
		return token(bearertest.Payload{"authorization_details": d})
	}
	actedBy := func(act any) func(a *bearertest.Authority) string {
		return token(bearertest.Payload{"act": act})
	}

	add("RFC 9396 §2",
		Case{Name: "details: well-formed", Guard: global, Token: details([]any{payment}), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "details: an object, not an array", Guard: global, Token: details(payment), Authorization: auth, Want: malformed},
		Case{Name: "details: an entry without type", Guard: global, Token: details([]any{map[string]any{"actions": []string{"read"}}}), Authorization: auth, Want: malformed},
		Case{Name: "details: a type that is not a string", Guard: global, Token: details([]any{map[string]any{"type": 7}}), Authorization: auth, Want: malformed},
		Case{Name: "details: locations a string", Guard: global, Token: details([]any{map[string]any{"type": "a", "locations": "https://x.example"}}), Authorization: auth, Want: malformed},
		Case{Name: "details: an entry a string", Guard: global, Token: details([]any{"payment_initiation"}), Authorization: auth, Want: malformed},
		Case{Name: "details: type named twice", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","aud":"api","sub":"alice","exp":{exp},"authorization_details":[{"type":"a","type":"b"}]}`), Authorization: auth, Want: malformed},
	)
	add("RFC 8693 §4.1",
		Case{Name: "act: an object", Guard: global, Token: actedBy(map[string]any{"sub": "agent-7", "act": map[string]any{"sub": "planner"}}), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "act: a string", Guard: global, Token: actedBy("agent-7"), Authorization: auth, Want: malformed},
		Case{Name: "act: sub a number", Guard: global, Token: actedBy(map[string]any{"sub": 7}), Authorization: auth, Want: malformed},
		Case{Name: "act: a nested actor not an object", Guard: global, Token: actedBy(map[string]any{"sub": "agent-7", "act": []string{"planner"}}), Authorization: auth, Want: malformed},
		Case{Name: "act: named in capitals", Guard: global, Token: token(bearertest.Payload{"ACT": map[string]any{"sub": "agent-7"}}), Authorization: auth, Want: malformed},
	)
	pay := Guard{Scope: Route, Require: bearer.AllOf(bearer.AllOf("pay"), smallPayment)}
	paying := func(scope, amount string) func(a *bearertest.Authority) string {
		return token(bearertest.Payload{"scope": scope, "authorization_details": []any{map[string]any{
			"type": "payment_initiation", "instructedAmount": map[string]any{"currency": "EUR", "amount": amount}}}})
	}
	add("RFC 9396 §9",
		Case{Name: "details: predicate met", Guard: pay, Token: paying("pay", "123.50"), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "details: predicate unmet, no policy named", Guard: pay, Token: paying("pay", "600"), Authorization: auth, Want: privileges},
		Case{Name: "details: none, predicate unmet", Guard: pay, Token: withScope("pay"), Authorization: auth, Want: privileges},
		Case{Name: "details: scope and predicate unmet, the scope named", Guard: pay, Token: paying("read", "600"), Authorization: auth, Want: insufficientScope("pay")},
		Case{Name: "details: predicate or scope, neither met", Guard: Guard{Scope: Route, Require: bearer.AnyOf(bearer.AllOf("admin"), smallPayment)}, Token: paying("read", "600"), Authorization: auth, Want: insufficientScope("admin")},
	)
	agent7 := Guard{Scope: Route, Require: bearer.ActedBy("agent-7")}
	notDelegated := Guard{Scope: Group, Require: bearer.MaxDelegation(0)}
	add("RFC 8693 §4.1",
		Case{Name: "act: agent-7 acts, agent-7 allowed", Guard: agent7, Token: actedBy(map[string]any{"sub": "agent-7"}), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "act: agent-8 acts, agent-7 allowed", Guard: agent7, Token: actedBy(map[string]any{"sub": "agent-8"}), Authorization: auth, Want: privileges},
		Case{Name: "act: agent-7 acted before, only the current actor counts", Guard: agent7, Token: actedBy(map[string]any{"sub": "agent-8", "act": map[string]any{"sub": "agent-7"}}), Authorization: auth, Want: privileges},
		Case{Name: "act: no one acts, agent-7 required", Guard: agent7, Token: valid, Authorization: auth, Want: privileges},
		Case{Name: "act: no delegation allowed, not delegated", Guard: notDelegated, Token: valid, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "act: no delegation allowed, delegated", Guard: notDelegated, Token: actedBy(map[string]any{"sub": "agent-7"}), Authorization: auth, Want: privileges},
	)
	add("RFC 8693 §4.4",
		Case{Name: "may_act: not an object", Guard: global, Token: token(bearertest.Payload{"may_act": "agent-7"}), Authorization: auth, Want: malformed},
	)
}
