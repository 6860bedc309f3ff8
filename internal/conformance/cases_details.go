package conformance

import "github.com/accesstoken/bearer/bearertest"

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
	add("RFC 8693 §4.4",
		Case{Name: "may_act: not an object", Guard: global, Token: token(bearertest.Payload{"may_act": "agent-7"}), Authorization: auth, Want: malformed},
	)
}
