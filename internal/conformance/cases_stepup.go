package conformance

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The acr values of the step-up cases.
const (
	acrMFA = "urn:example:mfa"
	acrPwd = "urn:example:pwd"
)

// stepUp is a 401 insufficient_user_authentication (RFC 9470 §3) from
// bearer.WriteError: description is the phrase of what is unmet, scope
// the scopes missing too, acr and maxAge what a new sign-in must meet.
func stepUp(description, scope, acr string, maxAge int) Want {
	challenge := `Bearer realm="api", error="insufficient_user_authentication", error_description="` + description + `"`
	body := struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Scope       string `json:"scope,omitempty"`
		ACRValues   string `json:"acr_values,omitempty"`
		MaxAge      int    `json:"max_age,omitempty"`
	}{"insufficient_user_authentication", description, scope, acr, maxAge}
	if scope != "" {
		challenge += `, scope="` + scope + `"`
	}
	if acr != "" {
		challenge += `, acr_values="` + acr + `"`
	}
	if maxAge > 0 {
		challenge += `, max_age="` + strconv.Itoa(maxAge) + `"`
	}
	b, _ := json.Marshal(body)
	return refused(401, challenge, string(b))
}

// The descriptions of RFC 9470 §3's examples.
const (
	otherLevel = "a different authentication level is required"
	moreRecent = "more recent authentication is required"
)

// stepUpCases are the cases of issue 30: step-up authentication (RFC
// 9470) and challenges that name the refused operation's needs alone.
func stepUpCases(add func(ref string, cs ...Case)) {
	auth := []string{bearerTk}
	mfa := Guard{Scope: Route, Require: bearer.ACR(acrMFA)}
	fresh := Guard{Scope: Route, Require: bearer.MaxAge(5 * time.Minute)}
	ranked := Guard{Scope: Route, Require: bearer.ACRAtLeast("silver", []string{"bronze", "silver", "gold"})}
	context := Guard{Scope: Group, Require: bearer.AllOf(bearer.ACR(acrMFA), bearer.MaxAge(5*time.Minute))}
	pay := Guard{Scope: Route, Require: bearer.AllOf(bearer.AllOf("pay"), bearer.ACR(acrMFA))}
	signedIn := func(acr any, ago time.Duration) func(a *bearertest.Authority) string {
		return token(bearertest.Payload{"acr": acr, "auth_time": time.Now().Add(-ago).Unix(), "scope": "read"})
	}
	recent, old := time.Minute, time.Hour

	add("RFC 9470 §3",
		Case{Name: "step-up: acr met", Guard: mfa, Token: signedIn(acrMFA, old), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "step-up: another acr", Guard: mfa, Token: signedIn(acrPwd, recent), Authorization: auth, Want: stepUp(otherLevel, "", acrMFA, 0)},
		Case{Name: "step-up: no acr", Guard: mfa, Token: withScope("read"), Authorization: auth, Want: stepUp(otherLevel, "", acrMFA, 0)},
		Case{Name: "step-up: acr in capitals", Guard: mfa, Token: signedIn("URN:EXAMPLE:MFA", recent), Authorization: auth, Want: stepUp(otherLevel, "", acrMFA, 0)},
		Case{Name: "step-up: acr an array meets nothing", Guard: mfa, Token: signedIn([]string{acrMFA}, recent), Authorization: auth, Want: stepUp(otherLevel, "", acrMFA, 0)},
		Case{Name: "step-up: acr of another type, no requirement", Guard: Guard{Scope: Route, Require: bearer.AnyOf("read")}, Token: signedIn(42, recent), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "step-up: recent sign-in", Guard: fresh, Token: signedIn(acrPwd, recent), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "step-up: sign-in too old", Guard: fresh, Token: signedIn(acrPwd, old), Authorization: auth, Want: stepUp(moreRecent, "", "", 300)},
		Case{Name: "step-up: sign-in within the leeway of max_age", Guard: fresh, Token: signedIn(acrPwd, 5*time.Minute+30*time.Second), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "step-up: no auth_time fails closed", Guard: fresh, Token: withScope("read"), Authorization: auth, Want: stepUp(moreRecent, "", "", 300)},
		Case{Name: "step-up: auth_time in the future", Guard: fresh, Token: signedIn(acrMFA, -old), Authorization: auth, Want: stepUp(moreRecent, "", "", 300)},
		Case{Name: "step-up: auth_time a string", Guard: fresh, Token: token(bearertest.Payload{"auth_time": strconv.FormatInt(time.Now().Unix(), 10)}), Authorization: auth, Want: stepUp(moreRecent, "", "", 300)},
		Case{Name: "step-up: acr and max_age, both named when one is unmet", Guard: context, Token: signedIn(acrMFA, old), Authorization: auth, Want: stepUp(moreRecent, "", acrMFA, 300)},
		Case{Name: "step-up: acr and max_age, another acr", Guard: context, Token: signedIn(acrPwd, recent), Authorization: auth, Want: stepUp(otherLevel, "", acrMFA, 300)},
		Case{Name: "step-up: acr and max_age met", Guard: context, Token: signedIn(acrMFA, recent), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "step-up: a stronger acr meets a weaker one", Guard: ranked, Token: signedIn("gold", recent), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "step-up: the least acr of the order", Guard: ranked, Token: signedIn("silver", recent), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "step-up: a weaker acr", Guard: ranked, Token: signedIn("bronze", recent), Authorization: auth, Want: stepUp(otherLevel, "", "silver", 0)},
		Case{Name: "step-up: an acr out of the order", Guard: ranked, Token: signedIn("platinum", recent), Authorization: auth, Want: stepUp(otherLevel, "", "silver", 0)},
		Case{Name: "step-up: cached token judged again", Guard: fresh, Token: signedIn(acrPwd, old), Authorization: auth, Replay: true, Want: stepUp(moreRecent, "", "", 300)},
	)
	add("RFC 9470 §6.2",
		Case{Name: "step-up: introspection answer meets acr", Guard: mfa, Setup: Introspecting, Token: func(a *bearertest.Authority) string {
			return a.ReferenceToken(bearertest.Payload{"aud": "api", "acr": acrMFA})
		}, Authorization: auth, Want: ok(subAlice)},
		Case{Name: "step-up: introspection answer, another acr, cached", Guard: mfa, Setup: Introspecting, Token: func(a *bearertest.Authority) string {
			return a.ReferenceToken(bearertest.Payload{"aud": "api", "acr": acrPwd})
		}, Authorization: auth, Replay: true, Want: stepUp(otherLevel, "", acrMFA, 0)},
		Case{Name: "step-up: introspection answer too old", Guard: fresh, Setup: Introspecting, Token: func(a *bearertest.Authority) string {
			return a.ReferenceToken(bearertest.Payload{"aud": "api", "auth_time": time.Now().Add(-old).Unix()})
		}, Authorization: auth, Want: stepUp(moreRecent, "", "", 300)},
		Case{Name: "step-up: introspection answer, recent", Guard: fresh, Setup: Introspecting, Token: func(a *bearertest.Authority) string {
			return a.ReferenceToken(bearertest.Payload{"aud": "api", "auth_time": time.Now().Add(-recent).Unix()})
		}, Authorization: auth, Replay: true, Want: ok(subAlice)},
	)

	// Scopes and step-up together: the 401 comes first and names the
	// missing scopes too, so that one authorization request meets both.
	add("RFC 9470 §3",
		Case{Name: "step-up and scope both unmet: 401 naming both", Guard: pay, Token: signedIn(acrPwd, recent), Authorization: auth, Want: stepUp(otherLevel, "pay", acrMFA, 0)},
		Case{Name: "step-up met, scope unmet: 403", Guard: pay, Token: signedIn(acrMFA, recent), Authorization: auth, Want: insufficientScope("pay")},
		Case{Name: "step-up unmet, scope met: 401 alone", Guard: pay, Token: token(bearertest.Payload{"acr": acrPwd, "scope": "pay"}), Authorization: auth, Want: stepUp(otherLevel, "", acrMFA, 0)},
		Case{Name: "step-up and scope as two requirements", Guard: Guard{Scope: Route, Require: bearer.AllOf("pay"), AlsoRequire: bearer.ACR(acrMFA)}, Token: signedIn(acrPwd, recent), Authorization: auth,
			Want: stepUp(otherLevel, "pay", acrMFA, 0)},
		Case{Name: "step-up or scope, neither", Guard: Guard{Scope: Route, Require: bearer.AnyOf(bearer.AllOf("pay"), bearer.ACR(acrMFA))}, Token: signedIn(acrPwd, recent), Authorization: auth,
			Want: stepUp(otherLevel, "pay", acrMFA, 0)},
		Case{Name: "step-up or scope, the scope", Guard: Guard{Scope: Route, Require: bearer.AnyOf(bearer.AllOf("pay"), bearer.ACR(acrMFA))}, Token: withScope("pay"), Authorization: auth, Want: ok(subAlice)},
	)
	// Per-operation challenges (MCP authorization, SEP-2350): a refusal
	// names the scopes of the requirement refused, whole, and nothing the
	// API asks elsewhere.
	add("RFC 6750 §3.1",
		Case{Name: "per operation: the unmet one of two requirements", Guard: Guard{Scope: Route, Require: bearer.AllOf("files:read"), AlsoRequire: bearer.AllOf("files:write")}, Token: withScope("files:read"), Authorization: auth,
			Want: insufficientScope("files:write")},
		Case{Name: "per operation: both of two requirements", Guard: Guard{Scope: Route, Require: bearer.AllOf("files:read"), AlsoRequire: bearer.AllOf("files:write")}, Token: withScope("read"), Authorization: auth,
			Want: insufficientScope("files:read files:write")},
		Case{Name: "per operation: the unmet part of a composite", Guard: Guard{Scope: Route, Require: bearer.AllOf(bearer.AnyOf("a", "b"), bearer.AllOf("c"))}, Token: withScope("a"), Authorization: auth,
			Want: insufficientScope("c")},
	)
	// Problem rendering and DPoP: as for every other refusal.
	add("RFC 9470 §3",
		Case{Name: "problem: step-up", Guard: Guard{Scope: Route, Require: bearer.ACR(acrMFA), ErrorHandler: problem}, Token: signedIn(acrPwd, recent), Authorization: auth, HTTP: &HTTP{},
			Want: rendered(stepUp(otherLevel, "", acrMFA, 0), otherLevel)},
		Case{Name: "DPoP: bound token, step-up in the DPoP challenge", Guard: mfa, Token: bound(bearertest.Payload{"acr": acrPwd}), Authorization: []string{"DPoP {token}"}, HTTP: &HTTP{}, Proof: proof(nil, nil),
			Want: refused(401, dpopChallenge+`, error="insufficient_user_authentication", error_description="`+otherLevel+`", acr_values="`+acrMFA+`", Bearer realm="api"`,
				`{"error":"insufficient_user_authentication","error_description":"`+otherLevel+`","acr_values":"`+acrMFA+`"}`)},
	)
}
