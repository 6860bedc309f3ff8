package conformance

import (
	"fmt"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// reviewCases are the cases of the review in issue 18 that concern the
// wire: scopes split on U+0020 alone (finding 2), one reading of every
// token (findings 4 and 8), introspection answers held to a JWT's rules
// (finding 6). Cases appends them to the table.
func reviewCases() []Case {
	global := Guard{Scope: Global}
	group := Guard{Scope: Group, Require: bearer.AllOf("admin", "write")}
	route := Guard{Scope: Route, Require: bearer.AnyOf("read", "write")}
	auth := []string{bearerTk}
	var cases []Case
	add := func(ref string, cs ...Case) {
		for _, c := range cs {
			c.Ref = ref
			cases = append(cases, c)
		}
	}
	scp := func(s ...string) func(a *bearertest.Authority) string { return token(bearertest.Payload{"scp": s}) }
	payload := func(extra string) func(a *bearertest.Authority) string {
		return raw(rawHeader, `{"iss":"{iss}","aud":"api","sub":"alice","exp":{exp},`+extra+`}`)
	}

	add("RFC 6749 §3.3",
		Case{Name: "review: scope split on U+00A0 grants neither", Guard: group, Token: withScope("write\u00a0admin"), Authorization: auth, Want: insufficientScope("admin write")},
		Case{Name: "review: scope split on a tab grants neither", Guard: group, Token: withScope("write\tadmin"), Authorization: auth, Want: insufficientScope("admin write")},
		Case{Name: "review: scope split on U+2028 grants neither", Guard: group, Token: withScope("write\u2028admin"), Authorization: auth, Want: insufficientScope("admin write")},
		Case{Name: "review: scope split on U+3000 grants neither", Guard: route, Token: withScope("x\u3000read"), Authorization: auth, Want: insufficientScope("read write")},
		Case{Name: "review: scopes separated by runs of spaces", Guard: group, Token: withScope("  write   admin "), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "review: scp element with U+00A0 is no scope", Guard: route, Token: scp("read\u00a0"), Authorization: auth, Want: insufficientScope("read write")},
		Case{Name: "review: scope with a quote is no scope", Guard: route, Token: withScope(`"read"`), Authorization: auth, Want: insufficientScope("read write")},
		Case{Name: "review: introspection: scope split on U+00A0", Guard: route, Setup: Introspecting, Token: func(a *bearertest.Authority) string {
			return a.ReferenceToken(bearertest.Payload{"aud": "api", "scope": "x\u00a0read"})
		}, Authorization: auth, Want: insufficientScope("read write")},
	)
	add("RFC 7519 §4",
		Case{Name: "review: sub and SUB", Guard: global, Token: payload(`"SUB":"admin"`), Authorization: auth, Want: malformed},
		Case{Name: "review: SUB alone", Guard: global, Token: raw(rawHeader, `{"iss":"{iss}","aud":"api","SUB":"admin","exp":{exp}}`), Authorization: auth, Want: malformed},
		Case{Name: "review: unregistered claim in two cases", Guard: global, Token: payload(`"tenant":"a","Tenant":"b"`), Authorization: auth, Want: malformed},
		Case{Name: "review: cnf member twice", Guard: global, Token: payload(`"cnf":{"jkt":"a","jkt":"b"}`), Authorization: auth, Want: malformed},
		Case{Name: "review: cnf member in two cases", Guard: global, Token: payload(`"cnf":{"jkt":"a","JKT":"b"}`), Authorization: auth, Want: malformed},
		Case{Name: "review: names equal under Unicode folding, deep", Guard: global, Token: payload(`"x":[{"k":1,"\u212a":2}]`), Authorization: auth, Want: malformed},
		Case{Name: "review: same name in two objects", Guard: global, Token: payload(`"x":[{"a":1},{"a":2}]`), Authorization: auth, Want: ok(subAlice)},
	)
	add("RFC 7493 §2.1",
		Case{Name: "review: lone high surrogate", Guard: global, Token: payload(`"name":"\ud800"`), Authorization: auth, Want: malformed},
		Case{Name: "review: lone low surrogate", Guard: global, Token: payload(`"name":"\udc00x"`), Authorization: auth, Want: malformed},
		Case{Name: "review: surrogates in the wrong order", Guard: global, Token: payload(`"name":"\ude00\ud83d"`), Authorization: auth, Want: malformed},
		Case{Name: "review: lone surrogate in a name", Guard: global, Token: payload(`"\ud800":1`), Authorization: auth, Want: malformed},
		Case{Name: "review: lone surrogate in the header", Guard: global, Token: raw(`{"alg":"RS256","typ":"at+jwt","kid":"{kid}","x":"\udbff"}`, rawPayload), Authorization: auth, Want: malformed},
		Case{Name: "review: surrogate pair", Guard: global, Token: payload(`"name":"\ud83d\ude00"`), Authorization: auth, Want: ok(subAlice)},
		Case{Name: "review: introspection: lone surrogate", Guard: global, Setup: Canned, Token: cannedToken("review-lone-surrogate"), Authorization: auth, Want: introspectionUnavailable},
		Case{Name: "review: introspection: invalid UTF-8", Guard: global, Setup: Canned, Token: cannedToken("review-invalid-utf8"), Authorization: auth, Want: introspectionUnavailable},
	)
	add("RFC 7662 §2.2",
		Case{Name: "review: introspection: exp the zero time", Guard: global, Setup: Canned, Token: cannedToken("review-exp-zero-time"), Authorization: auth, Want: invalidToken("token expired")},
		Case{Name: "review: introspection: refresh token by token_type", Guard: global, Setup: Canned, Token: cannedToken("review-token-type-refresh"), Authorization: auth, Want: tokenType},
		Case{Name: "review: introspection: refresh token by token_use", Guard: global, Setup: Canned, Token: cannedToken("review-token-use-refresh"), Authorization: auth, Want: tokenType},
		Case{Name: "review: introspection: refresh token by typ", Guard: global, Setup: Canned, Token: cannedToken("review-typ-refresh"), Authorization: auth, Want: tokenType},
		Case{Name: "review: introspection: ID token by token_use", Guard: global, Setup: Canned, Token: cannedToken("review-token-use-id"), Authorization: auth, Want: tokenType},
		Case{Name: "review: introspection: token_type DPoP", Guard: global, Setup: Canned, Token: cannedToken("review-token-type-dpop"), Authorization: auth, Want: boundAsBearer},
		Case{Name: "review: introspection: sub and SUB", Guard: global, Setup: Canned, Token: cannedToken("review-sub-and-SUB"), Authorization: auth, Want: introspectionUnavailable},
	)
	add("RFC 7662 §4",
		Case{Name: "review: introspection: nbf in the future", Guard: global, Setup: Canned, Token: cannedToken("review-nbf-future"), Authorization: auth, Want: invalidToken("token not yet valid")},
		Case{Name: "review: introspection: no aud", Guard: global, Setup: Canned, Token: cannedToken("review-no-aud"), Authorization: auth, Want: audience},
	)
	return cases
}

// reviewAnswers are the Canned setup's answers for the review's tokens
// (see cannedToken): an active answer about a token of issuer for aud
// "api", but for what the name says.
var reviewAnswers = map[string]func(iss string, now time.Time) string{
	"review-lone-surrogate":     func(iss string, now time.Time) string { return answer(iss, now, `,"name":"\ud800"`) },
	"review-invalid-utf8":       func(iss string, now time.Time) string { return answer(iss, now, ",\"name\":\"al\xffce\"") },
	"review-token-type-refresh": func(iss string, now time.Time) string { return answer(iss, now, `,"token_type":"refresh_token"`) },
	"review-token-use-refresh":  func(iss string, now time.Time) string { return answer(iss, now, `,"token_use":"refresh_token"`) },
	"review-typ-refresh":        func(iss string, now time.Time) string { return answer(iss, now, `,"typ":"Refresh"`) },
	"review-token-use-id":       func(iss string, now time.Time) string { return answer(iss, now, `,"token_use":"id"`) },
	"review-token-type-dpop":    func(iss string, now time.Time) string { return answer(iss, now, `,"token_type":"DPoP"`) },
	"review-sub-and-SUB":        func(iss string, now time.Time) string { return answer(iss, now, `,"SUB":"admin"`) },
	"review-nbf-future": func(iss string, now time.Time) string {
		return answer(iss, now, fmt.Sprintf(`,"nbf":%d`, now.Add(time.Hour).Unix()))
	},
	"review-exp-zero-time": func(iss string, _ time.Time) string {
		return fmt.Sprintf(`{"active":true,"sub":"alice","scope":"read","iss":%q,"aud":"api","exp":-62135596800}`, iss)
	},
	"review-no-aud": func(iss string, now time.Time) string {
		return fmt.Sprintf(`{"active":true,"sub":"alice","scope":"read","iss":%q,"exp":%d}`, iss, now.Add(time.Hour).Unix())
	},
}

// answer is an active answer with sub alice, scope read, iss, aud "api",
// exp in an hour, and extra: more members, with a leading comma.
func answer(iss string, now time.Time, extra string) string {
	return fmt.Sprintf(`{"active":true,"sub":"alice","scope":"read","iss":%q,"aud":"api","exp":%d%s}`, iss, now.Add(time.Hour).Unix(), extra)
}
