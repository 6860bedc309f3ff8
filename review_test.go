package bearer_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// Regression tests of the review in issue 18, one (at least) per finding,
// named after it. Those that need the package's insides are in
// review_internal_test.go; those about the wire are also cases of the
// conformance table (internal/conformance/cases_review.go).

// otherSpaces are the white space characters strings.Fields splits on
// that RFC 6749 §3.3 does not: scopes are separated by U+0020 alone.
var otherSpaces = []string{"\t", "\n", "\r", "\v", "\f", "\u0085", "\u00a0", "\u2003", "\u2028", "\u3000"}

// TestReview2_ScopesSplitOnSpaceOnly: "files:read\u00a0admin" grants
// neither files:read nor admin, in scope and scp, as a string or in an
// array, from a JWT or an introspection answer; a requirement built with
// such a scope can never be met, and New refuses it.
func TestReview2_ScopesSplitOnSpaceOnly(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{Audience: []string{"api"}, RequiredScopes: bearer.AllOf("admin")}))
	for _, sp := range otherSpaces {
		for name, c := range map[string]bearertest.Payload{
			"scope string": {"scope": "files:read" + sp + "admin"},
			"scp string":   {"scp": "files:read" + sp + "admin"},
			"scope array":  {"scope": []string{"admin" + sp, "files:read"}},
			"scp array":    {"scp": []string{sp + "admin"}},
		} {
			c["aud"] = "api"
			for kind, tok := range map[string]string{"JWT": a.Token(c), "reference": a.ReferenceToken(c)} {
				e := mustFail(t, v, tok, bearer.ErrInsufficientScope, nil)
				if e.Status != 403 || e.Scope != "admin" {
					t.Errorf("%s %s %q: %d %q", kind, name, sp, e.Status, e.Scope)
				}
			}
		}
	}
	// Spaces alone separate; runs of them and odd pieces are dropped.
	loose := newValidator(t, a, bearer.Config{Audience: []string{"api"}})
	c := mustValid(t, loose, a.Token(bearertest.Payload{"aud": "api", "scope": "  read   files:read\u00a0admin write \"q\" \\ ", "scp": []string{"", "a b", "scp:x", "\u00e9"}}))
	if want := []string{"read", "write", "scp:x"}; !slices.Equal(c.Scopes, want) {
		t.Errorf("scopes %q, want %q", c.Scopes, want)
	}

	// Requirements split on spaces alone too, and keep what no scope
	// matches: dropping it would weaken them (AnyOf("\tadmin") to nothing).
	admin := mustValid(t, loose, a.Token(bearertest.Payload{"aud": "api", "scope": "admin read"}))
	for _, sp := range otherSpaces {
		for _, r := range []bearer.Requirement{bearer.AnyOf(sp + "admin"), bearer.AllOf("admin" + sp), bearer.AnyOf(sp)} {
			if r.IsZero() || !errors.Is(r.Check(admin), bearer.ErrInsufficientScope) {
				t.Errorf("requirement %q met by %q", r, admin.Scopes)
			}
			_, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), RequiredScopes: r})
			if err == nil || !strings.Contains(err.Error(), "scope-token") {
				t.Errorf("New with RequiredScopes %q: %v", r, err)
			}
		}
	}
	if r := bearer.AllOf(" admin  read "); r.String() != "admin read" || r.Check(admin) != nil {
		t.Errorf("AllOf(\" admin  read \") = %q", r)
	}
}

// TestReview4_TypedClaimsAndDecodeAgree: a payload that encoding/json,
// and so Claims.Decode, would read differently from the typed claims is
// refused: a registered name in another case, two names equal when case
// is folded, a name twice in a nested object. What is accepted reads the
// same through Subject, Decode and Map. Introspection answers alike.
func TestReview4_TypedClaimsAndDecodeAgree(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{InactiveCacheDuration: -1}))
	for name, extra := range map[string]string{
		"sub and SUB":           `"sub":"alice","SUB":"admin"`,
		"SUB alone":             `"SUB":"admin"`,
		"ſub alone":             `"ſub":"admin"`,
		"custom claim, 2 cases": `"tenant":"a","Tenant":"b"`,
		"cnf member twice":      `"cnf":{"jkt":"a","jkt":"b"}`,
		"cnf member, 2 cases":   `"cnf":{"jkt":"a","JKT":"b"}`,
		"deep in an array":      `"x":[{"y":{"z":1,"z":2}}]`,
		"Kelvin sign":           `"x":{"k":1,"\u212a":2}`,
		"escaped":               `"x":{"ab":1,"\u0041B":2}`,
	} {
		t.Run(name, func(t *testing.T) {
			jwt := signRaw(a, stdHeader, `{"iss":"{iss}","aud":"api","exp":{exp},`+extra+`}`)
			mustFail(t, v, jwt, bearer.ErrInvalidToken, bearer.ErrMalformed)
			a.SetBody(bearertest.Introspection, []byte(`{"active":true,"iss":"`+a.Issuer()+`","aud":"api",`+extra+`}`))
			defer a.SetBody(bearertest.Introspection, nil)
			mustFail(t, v, "reference-"+bearer.Fingerprint(name), bearer.ErrUnavailable, nil)
		})
	}
	// The same name in different objects is no duplicate.
	c := mustValid(t, v, signRaw(a, stdHeader, `{"iss":"{iss}","aud":"api","exp":{exp},"sub":"alice","subject":"x","cnf":{"kid":"t"},"x":[{"a":1},{"a":2}]}`))
	var d struct {
		Sub string `json:"sub"`
		Cnf struct {
			JKT string `json:"kid"`
		} `json:"cnf"`
	}
	if err := c.Decode(&d); err != nil || d.Sub != c.Subject || d.Sub != "alice" || d.Cnf.JKT != "t" || c.Map()["sub"] != c.Subject {
		t.Errorf("Decode %+v (%v), Subject %q, Map %v", d, err, c.Subject, c.Map()["sub"])
	}
}

// TestReview8_LoneSurrogatesRefused: I-JSON (RFC 7493 §2.1). An escaped
// lone surrogate, which encoding/json reads as U+FFFD, is refused wherever
// it is in a token, and so is invalid UTF-8 in an introspection answer:
// two different tokens can no longer carry the same sub.
func TestReview8_LoneSurrogatesRefused(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{InactiveCacheDuration: -1}))
	for name, extra := range map[string]string{
		"high alone":           `"sub":"\ud800"`,
		"low alone":            `"sub":"\udc00"`,
		"high then text":       `"sub":"\uD83Dx"`,
		"high then BMP escape": `"sub":"\ud83d\u0041"`,
		"low then high":        `"sub":"\udc00\ud800"`,
		"two highs":            `"sub":"\ud83d\ud83d\ude00"`,
		"in a name":            `"\ud800":1`,
		"deep":                 `"x":{"y":["ok","\udfff"]}`,
		"in a scope":           `"scope":"api \ud800"`,
	} {
		t.Run(name, func(t *testing.T) {
			jwt := signRaw(a, stdHeader, `{"iss":"{iss}","aud":"api","exp":{exp},`+extra+`}`)
			mustFail(t, v, jwt, bearer.ErrInvalidToken, bearer.ErrMalformed)
			a.SetBody(bearertest.Introspection, []byte(`{"active":true,"iss":"`+a.Issuer()+`","aud":"api",`+extra+`}`))
			defer a.SetBody(bearertest.Introspection, nil)
			mustFail(t, v, "reference-"+bearer.Fingerprint(name), bearer.ErrUnavailable, nil)
		})
	}
	mustFail(t, v, signRaw(a, `{"alg":"RS256","kid":"{kid}","x":"\ud800"}`, stdPayload), bearer.ErrInvalidToken, bearer.ErrMalformed)
	for name, body := range map[string]string{
		"invalid UTF-8":      "{\"active\":true,\"aud\":\"api\",\"sub\":\"al\xffce\"}",
		"surrogate in UTF-8": "{\"active\":true,\"aud\":\"api\",\"sub\":\"\xed\xa0\x80\"}",
		"overlong":           "{\"active\":true,\"aud\":\"api\",\"sub\":\"\xc0\xaf\"}",
	} {
		a.SetBody(bearertest.Introspection, []byte(body))
		mustFail(t, v, "reference-"+bearer.Fingerprint(name), bearer.ErrUnavailable, nil)
	}
	a.SetBody(bearertest.Introspection, nil)

	// A pair is one character beyond U+FFFF; U+FFFD itself is fine.
	for sub, want := range map[string]string{`\ud83d\ude00`: "😀", `\uD83D\uDE00`: "😀", `\ufffd`: "\ufffd", `\\ud800`: `\ud800`} {
		c := mustValid(t, v, signRaw(a, stdHeader, `{"iss":"{iss}","aud":"api","exp":{exp},"sub":"`+sub+`"}`))
		if c.Subject != want {
			t.Errorf("sub %s read as %q, want %q", sub, c.Subject, want)
		}
	}
}

// TestReview6_IntrospectionAsStrictAsJWT: an active answer is held to the
// rules of a JWT's claims. (a) exp is tracked by presence: the zero time
// -62135596800 is long past, and such an answer is not cached; (b) a
// future nbf (or iat) beyond the leeway is refused; (c) an answer that
// says the token is a refresh or ID token is refused, whichever of
// token_type, token_use (Hydra, Cognito) or typ (Keycloak) says so; (d)
// with Audience configured, an answer without aud is refused. The rules
// hold for answers read back from a store as JSON too.
func TestReview6_IntrospectionAsStrictAsJWT(t *testing.T) {
	a := bearertest.New(t)
	store := newRecordingStore()
	v := newValidator(t, a, introspectionConfig(bearer.Config{Audience: []string{"api"}, IntrospectionCache: store}))
	now := time.Now()
	check := func(t *testing.T, c bearertest.Payload, reason error) {
		t.Helper()
		if _, ok := c["aud"]; !ok {
			c["aud"] = "api"
		}
		a.SetBody(bearertest.Introspection, introspectionBody(t, a, c))
		defer a.SetBody(bearertest.Introspection, nil)
		tok := "reference-" + rand.Text()
		for range 2 { // the second from the store, if cached
			if reason == nil {
				mustValid(t, v, tok)
			} else {
				mustFail(t, v, tok, bearer.ErrInvalidToken, reason)
			}
		}
	}
	for name, tc := range map[string]struct {
		c      bearertest.Payload
		reason error
	}{
		"(a) exp the zero time":  {bearertest.Payload{"exp": -62135596800}, bearer.ErrExpired},
		"(a) exp year 1":         {bearertest.Payload{"exp": -62135596799}, bearer.ErrExpired},
		"(b) nbf in 70 s":        {bearertest.Payload{"nbf": now.Add(70 * time.Second)}, bearer.ErrNotYetValid},
		"(b) nbf in 50 s":        {bearertest.Payload{"nbf": now.Add(50 * time.Second)}, nil},
		"(b) iat in 70 s":        {bearertest.Payload{"iat": now.Add(70 * time.Second)}, bearer.ErrIssuedInFuture},
		"(c) refresh_token":      {bearertest.Payload{"token_type": "refresh_token"}, bearer.ErrTokenType},
		"(c) RFC 8693 refresh":   {bearertest.Payload{"token_type": "urn:ietf:params:oauth:token-type:refresh_token"}, bearer.ErrTokenType},
		"(c) N_A":                {bearertest.Payload{"token_type": "N_A"}, bearer.ErrTokenType},
		"(c) id_token":           {bearertest.Payload{"token_type": "id_token"}, bearer.ErrTokenType},
		"(c) Hydra refresh":      {bearertest.Payload{"token_type": "Bearer", "token_use": "refresh_token"}, bearer.ErrTokenType},
		"(c) Cognito id":         {bearertest.Payload{"token_use": "id"}, bearer.ErrTokenType},
		"(c) Keycloak Refresh":   {bearertest.Payload{"typ": "Refresh"}, bearer.ErrTokenType},
		"(c) Keycloak Offline":   {bearertest.Payload{"typ": "Offline"}, bearer.ErrTokenType},
		"(c) Keycloak ID":        {bearertest.Payload{"typ": "ID"}, bearer.ErrTokenType},
		"(c) Bearer":             {bearertest.Payload{"token_type": "Bearer"}, nil},
		"(c) bearer":             {bearertest.Payload{"token_type": "bearer"}, nil},
		"(c) DPoP":               {bearertest.Payload{"token_type": "DPoP"}, bearer.ErrBinding}, // bound: Validate cannot check a proof
		"(c) access_token":       {bearertest.Payload{"token_type": "access_token"}, nil},
		"(c) RFC 8693 access":    {bearertest.Payload{"token_type": "urn:ietf:params:oauth:token-type:access_token"}, nil},
		"(c) Hydra access":       {bearertest.Payload{"token_use": "access_token"}, nil},
		"(c) Cognito access":     {bearertest.Payload{"token_use": "access"}, nil},
		"(c) Keycloak Bearer":    {bearertest.Payload{"typ": "Bearer", "token_type": "Bearer"}, nil},
		"(c) typ at+jwt":         {bearertest.Payload{"typ": "at+jwt"}, nil},
		"(d) aud absent":         {bearertest.Payload{"aud": nil}, bearer.ErrAudience},
		"(d) aud empty":          {bearertest.Payload{"aud": []string{}}, bearer.ErrAudience},
		"(d) aud another API":    {bearertest.Payload{"aud": "web"}, bearer.ErrAudience},
		"(d) aud among others":   {bearertest.Payload{"aud": []string{"web", "api"}}, nil},
		"(a) no exp is no limit": {bearertest.Payload{"exp": nil}, nil},
	} {
		t.Run(name, func(t *testing.T) { check(t, tc.c, tc.reason) })
	}
	if n := len(store.ttls); n == 0 {
		t.Error("nothing was cached: the second look was no look at a stored answer")
	}
	for key, ttl := range store.ttls {
		if ttl > bearer.DefaultCacheDuration {
			t.Errorf("%s cached for %v", key, ttl)
		}
	}
	// An answer whose exp is the zero time is not cached at all.
	a.SetBody(bearertest.Introspection, introspectionBody(t, a, bearertest.Payload{"aud": "api", "exp": -62135596800}))
	tok := "reference-zero-exp"
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrExpired)
	a.SetBody(bearertest.Introspection, nil)
	if ttl := store.ttl(hashKey(tok)); ttl != 0 {
		t.Errorf("an answer with exp -62135596800 cached for %v", ttl)
	}

	// (d) An authority whose answers carry no aud: bind tokens to the API
	// by RequiredScopes, without Audience.
	scoped := newValidator(t, a, introspectionConfig(bearer.Config{RequiredScopes: bearer.AnyOf("api")}))
	mustValid(t, scoped, a.ReferenceToken(bearertest.Payload{"scope": "api"}))
}

// TestReview7_SignedAnswersStrictAndFresh: an RFC 9701 response is read
// by the strict decoder (no duplicate or case-variant members, UTF-8
// only) and must be fresh: iat required, not in the future beyond the
// leeway, no older than Timeout plus Leeway (12 s here); exp and nbf
// honoured. A response captured once cannot be replayed later.
func TestReview7_SignedAnswersStrictAndFresh(t *testing.T) {
	a := bearertest.New(t)
	in := newIntrospector(t, a, bearer.Config{IntrospectionJWT: true, InactiveCacheDuration: -1, CacheDuration: -1, Timeout: 2 * time.Second, Leeway: 10 * time.Second})
	mustActive(t, in, a.ReferenceToken(nil)) // keys fetched
	now := time.Now()
	header := []byte(`{"alg":"RS256","typ":"token-introspection+jwt","kid":"` + a.KeyID("RS256") + `"}`)
	ti := `"token_introspection":{"active":true,"sub":"mallory"}`
	answer := func(members string) string {
		return a.Sign("RS256", header, []byte(`{"iss":"`+a.Issuer()+`","aud":"`+bearertest.DefaultClientID+`",`+members+`}`))
	}
	iat := func(d time.Duration) string { return `"iat":` + jsonInt(now.Add(d).Unix()) }
	for name, body := range map[string]string{
		"no iat":                      answer(ti),
		"iat null":                    answer(`"iat":null,` + ti),
		"iat an hour ago":             answer(iat(-time.Hour) + `,` + ti),
		"iat 20 s ago":                answer(iat(-20*time.Second) + `,` + ti),
		"iat an hour ago, exp ahead":  answer(iat(-time.Hour) + `,"exp":` + jsonInt(now.Add(time.Hour).Unix()) + `,` + ti),
		"iat in 30 s":                 answer(iat(30*time.Second) + `,` + ti),
		"exp past":                    answer(iat(0) + `,"exp":` + jsonInt(now.Add(-time.Minute).Unix()) + `,` + ti),
		"nbf in 20 s":                 answer(iat(0) + `,"nbf":` + jsonInt(now.Add(20*time.Second).Unix()) + `,` + ti),
		"iss twice":                   answer(iat(0) + `,"iss":"https://evil.example",` + ti),
		"ISS":                         a.Sign("RS256", header, []byte(`{"ISS":"`+a.Issuer()+`","aud":"`+bearertest.DefaultClientID+`",`+iat(0)+`,`+ti+`}`)),
		"AUD next to aud":             answer(iat(0) + `,"AUD":"someone-else",` + ti),
		"token_introspection twice":   answer(iat(0) + `,` + ti + `,"token_introspection":{"active":false}`),
		"Token_Introspection":         answer(iat(0) + `,"Token_Introspection":{"active":true,"sub":"mallory"}`),
		"lone surrogate":              answer(iat(0) + `,"x":"\ud800",` + ti),
		"inner member in other cases": answer(iat(0) + `,"token_introspection":{"active":true,"sub":"a","SUB":"mallory"}`),
	} {
		t.Run(name, func(t *testing.T) {
			a.SetBody(bearertest.Introspection, []byte(body))
			defer a.SetBody(bearertest.Introspection, nil)
			_, err := in.Introspect(context.Background(), "tok-"+bearer.Fingerprint(name))
			mustUnavailable(t, err)
		})
	}
	for name, body := range map[string]string{
		"iat now":         answer(iat(0) + `,` + ti),
		"iat 5 s ahead":   answer(iat(5*time.Second) + `,` + ti),
		"iat 5 s ago":     answer(iat(-5*time.Second) + `,` + ti),
		"exp and nbf now": answer(iat(0) + `,"nbf":` + jsonInt(now.Unix()) + `,"exp":` + jsonInt(now.Add(time.Minute).Unix()) + `,` + ti),
	} {
		t.Run(name, func(t *testing.T) {
			a.SetBody(bearertest.Introspection, []byte(body))
			defer a.SetBody(bearertest.Introspection, nil)
			if r := mustActive(t, in, "tok-"+bearer.Fingerprint(name)); r.Subject != "mallory" {
				t.Errorf("sub %q", r.Subject)
			}
		})
	}
}

// stalledEndpoint is an introspection endpoint that answers active, but
// only once release is closed; it counts the requests under way and the
// most it has had at once.
type stalledEndpoint struct {
	*httptest.Server
	release          chan struct{}
	mu               sync.Mutex
	now, most, total int
}

func newStalledEndpoint(t *testing.T) *stalledEndpoint {
	e := &stalledEndpoint{release: make(chan struct{})}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.now++
		e.total++
		e.most = max(e.most, e.now)
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.now--
			e.mu.Unlock()
		}()
		select {
		case <-e.release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"active":true,"sub":"alice","aud":"api","scope":"api"}`))
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *stalledEndpoint) counts() (now, most, total int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now, e.most, e.total
}

// TestReview5_IntrospectionCallsBounded: 300 requests with distinct
// tokens against a stalled endpoint make at most MaxIntrospectionCalls
// calls; the others get 503 with Retry-After at once, while the endpoint
// still stalls, and hold no goroutine. A token already being asked about
// joins its call, bound or not; the bound frees as calls end.
func TestReview5_IntrospectionCallsBounded(t *testing.T) {
	const bound, requests = 8, 300
	e := newStalledEndpoint(t)
	var h recordHandler
	in := newIntrospector(t, nil, bearer.Config{
		IntrospectionEndpoint: e.URL, MaxIntrospectionCalls: bound, Timeout: time.Minute,
		Logger: slog.New(&h),
	})
	before := runtime.NumGoroutine()
	type outcome struct {
		i   int
		res *bearer.Result
		err error
	}
	results := make(chan outcome, 2*requests)
	token := func(i int) string { return fmt.Sprintf("opaque-%03d-%s", i, rand.Text()) }
	tokens := make([]string, requests)
	for i := range tokens {
		tokens[i] = token(i)
		go func() {
			r, err := in.Introspect(context.Background(), tokens[i])
			results <- outcome{i, r, err}
		}()
	}
	// Every request beyond the bound is answered while the endpoint stalls.
	waiting := map[int]bool{}
	for i := range tokens {
		waiting[i] = true
	}
	deadline := time.After(30 * time.Second)
	for n := 0; n < requests-bound; n++ {
		select {
		case o := <-results:
			e := mustUnavailable(t, o.err)
			if e.RetryAfter != time.Second {
				t.Errorf("Retry-After %v", e.RetryAfter)
			}
			delete(waiting, o.i)
		case <-deadline:
			t.Fatalf("only %d of %d requests beyond the bound were answered", n, requests-bound)
		}
	}
	for {
		now, most, total := e.counts()
		if most > bound || total > bound {
			t.Fatalf("%d calls at once, %d in all: the bound is %d", most, total, bound)
		}
		if now == bound {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("%d calls arrived, want %d", now, bound)
		case <-time.After(time.Millisecond):
		}
	}
	// The issue measured ~1,500 goroutines for 300 such requests: a worker,
	// two transport loops and the server's two per call. Here only the
	// bound's calls hold any, and the callers still waiting for them.
	if n := runtime.NumGoroutine() - before; n > 8*bound {
		t.Errorf("%d goroutines more than before for %d calls under way", n, bound)
	}
	// Logged once, not once per refusal.
	if lines := h.take(); len(lines) != 1 || !strings.HasPrefix(lines[0], "WARN bearer: introspection calls at Config.MaxIntrospectionCalls; Introspect returns ErrUnavailable for new tokens ") {
		t.Errorf("%d refusals logged as:\n%s", requests-bound, strings.Join(lines, "\n"))
	}
	// The tokens under way join their calls, bound or not.
	for i := range waiting {
		go func() {
			r, err := in.Introspect(context.Background(), tokens[i])
			results <- outcome{i, r, err}
		}()
	}
	close(e.release)
	for range 2 * bound {
		if o := <-results; o.err != nil || !o.res.Active || !waiting[o.i] {
			t.Errorf("request %d: %v, %v", o.i, o.res, o.err)
		}
	}
	if _, _, total := e.counts(); total != bound {
		t.Errorf("%d calls, want %d", total, bound)
	}
	if lines := h.take(); len(lines) != 1 || !strings.HasPrefix(lines[0], "INFO bearer: introspection calls below Config.MaxIntrospectionCalls again") ||
		!strings.Contains(lines[0], fmt.Sprintf("refused=%d", requests-bound)) {
		t.Errorf("the end of the refusals logged as:\n%s", strings.Join(lines, "\n"))
	}
	// The bound is free again.
	mustActive(t, in, token(requests))

	// A Validator has the same bound, and says 503 over HTTP.
	e2 := newStalledEndpoint(t)
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{
		Audience: []string{"api"}, ClientID: "api", ClientSecret: "secret", IntrospectionEndpoint: e2.URL,
		MaxIntrospectionCalls: 1, Timeout: time.Minute, Logger: slog.New(slog.DiscardHandler),
	})
	go v.Validate(context.Background(), "first-opaque-token")
	for now, _, _ := e2.counts(); now == 0; now, _, _ = e2.counts() {
		time.Sleep(time.Millisecond)
	}
	err := mustFail(t, v, "second-opaque-token", bearer.ErrUnavailable, nil)
	if err.Status != http.StatusServiceUnavailable || err.RetryAfter != time.Second {
		t.Errorf("%d, Retry-After %v", err.Status, err.RetryAfter)
	}
	close(e2.release)
}

// recordHandler is a slog.Handler that keeps every record.
type recordHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

// take returns the records kept since the last take, as "LEVEL message
// key=value …" lines.
func (h *recordHandler) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		line := r.Level.String() + " " + r.Message
		r.Attrs(func(a slog.Attr) bool {
			line += " " + a.String()
			return true
		})
		out = append(out, line)
	}
	h.records = nil
	return out
}

// TestIssue17_IntrospectionOutageLoggedAsTransitions (issue 17 §5): an
// outage of the introspection endpoint is logged when it begins and when
// it ends, with the count of failed calls, not once per failed call; the
// count in between comes once a minute (see TestIssue17_OutageCountedPeriodically).
func TestIssue17_IntrospectionOutageLoggedAsTransitions(t *testing.T) {
	a := bearertest.New(t)
	var h recordHandler
	in := newIntrospector(t, a, bearer.Config{Logger: slog.New(&h)})
	mustActive(t, in, a.ReferenceToken(nil))
	h.take() // discovery

	outage := func(status int, calls int) {
		t.Helper()
		a.SetStatus(bearertest.Introspection, status)
		for range calls {
			_, err := in.Introspect(context.Background(), a.ReferenceToken(nil))
			mustUnavailable(t, err)
		}
		a.SetStatus(bearertest.Introspection, 0)
	}
	outage(http.StatusBadGateway, 50)
	lines := h.take()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "WARN bearer: introspection failing") || !strings.Contains(lines[0], "status 502") || !strings.Contains(lines[0], "failures=1") {
		t.Fatalf("50 failed calls logged as:\n%s", strings.Join(lines, "\n"))
	}
	mustActive(t, in, a.ReferenceToken(nil))
	mustActive(t, in, a.ReferenceToken(nil))
	lines = h.take()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "INFO bearer: introspection answers again") || !strings.Contains(lines[0], "failures=50") {
		t.Fatalf("recovery logged as:\n%s", strings.Join(lines, "\n"))
	}
	// The next outage is news again; refused credentials are an ERROR.
	outage(http.StatusUnauthorized, 20)
	lines = h.take()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "ERROR bearer: the introspection endpoint refused this API's credentials") {
		t.Fatalf("20 refusals logged as:\n%s", strings.Join(lines, "\n"))
	}
}

// TestReview9_CachedClaimsNotShared: the claims of a cached token are
// copied for each request, so a handler that changes its claims (appends
// a scope, renames the audience, edits cnf or Map) changes nothing for
// the next request with the same token: JWTs and reference tokens, the
// request that filled the cache and those served from it, and
// Introspector results alike. Under -race, requests changing their claims
// at once would be reported if they shared any.
func TestReview9_CachedClaimsNotShared(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, introspectionConfig(bearer.Config{Audience: []string{"api"}}))
	c := bearertest.Payload{"aud": "api", "sub": "alice", "scope": "api read", "cnf": map[string]string{"kid": "thumb"}}
	tamper := func(c *bearer.Claims) {
		c.Scopes = append(c.Scopes, "admin")
		c.Scopes[0] = "admin"
		c.Audience[0] = "other-api"
		c.Audience = append(c.Audience, "x")
		c.Subject = "root"
		c.Confirmation[2] = 'X'
		c.Map()["sub"] = "root"
	}
	check := func(t *testing.T, c *bearer.Claims) {
		t.Helper()
		if c.Subject != "alice" || !slices.Equal(c.Scopes, []string{"api", "read"}) || !slices.Equal(c.Audience, []string{"api"}) ||
			string(c.Confirmation) != `{"kid":"thumb"}` || c.Map()["sub"] != "alice" || bearer.AllOf("admin").Check(c) == nil {
			t.Errorf("claims changed by an earlier request: %+v, map %v", c, c.Map())
		}
	}
	for kind, tok := range map[string]string{"JWT": a.Token(c), "reference": a.ReferenceToken(c)} {
		t.Run(kind, func(t *testing.T) {
			first := mustValid(t, v, tok) // fills the cache
			tamper(first)
			for range 2 {
				c := mustValid(t, v, tok) // served from it
				check(t, c)
				tamper(c)
			}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					c, err := v.Validate(context.Background(), tok)
					if err != nil {
						t.Error(err)
						return
					}
					tamper(c)
				})
			}
			wg.Wait()
			check(t, mustValid(t, v, tok))
		})
	}
	if s := v.Status(); s.CacheHits < 10 {
		t.Errorf("%d cache hits: the JWT was not served from the cache", s.CacheHits)
	}

	in := newIntrospector(t, a, bearer.Config{})
	tok := a.ReferenceToken(c)
	r1 := mustActive(t, in, tok)
	tamper(r1.Claims)
	r1.Active, r1.Username, r1.TokenType = false, "mallory", "refresh_token"
	r1.Claims = nil
	r2 := mustActive(t, in, tok)
	check(t, r2.Claims)
	if r2.Username != "" || r2.TokenType != "" {
		t.Errorf("result changed by an earlier caller: %+v", r2)
	}
}
