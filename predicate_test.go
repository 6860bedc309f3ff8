package bearer_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// require validates token with route requirements, as the middleware does.
func require(v *bearer.Validator, token string, r ...bearer.Requirement) (*bearer.Claims, *bearer.Error) {
	c, err := v.ValidatePresentation(context.Background(), bearer.Presentation{Token: token, Require: r})
	return c, bearer.AsError(err)
}

var (
	yes = bearer.Predicate(func(*bearer.Claims) bool { return true })
	no  = bearer.Predicate(func(*bearer.Claims) bool { return false })
)

// TestPredicateRefusalSaysNothingOfThePolicy: an unmet Predicate is a 403
// insufficient_scope with a fixed description and no scope parameter;
// the challenge carries nothing the predicate looked at.
func TestPredicateRefusalSaysNothingOfThePolicy(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	admin := bearer.Predicate(func(c *bearer.Claims) bool {
		var x struct{ Roles []string }
		return c.Decode(&x) == nil && slices.Contains(x.Roles, "admin")
	})
	_, e := require(v, a.Token(claims(bearertest.Payload{"roles": []string{"user"}})), admin)
	if e == nil {
		t.Fatal("a token without the admin role met the predicate")
	}
	if !errors.Is(e, bearer.ErrInsufficientScope) || e.Status != http.StatusForbidden || e.Code != "insufficient_scope" || e.Scope != "" {
		t.Fatalf("refusal %+v, want 403 insufficient_scope without a scope", e)
	}
	if ch, want := e.Challenges("api")[0], `Bearer realm="api", error="insufficient_scope", error_description="insufficient privileges"`; ch != want {
		t.Errorf("challenge %s, want %s", ch, want)
	}
	if _, e := require(v, a.Token(claims(bearertest.Payload{"roles": []string{"admin"}})), admin); e != nil {
		t.Errorf("an admin was refused: %v", e)
	}
}

// TestPredicateComposes: in AllOf and AnyOf a predicate is one more part;
// the challenge of a combination names the scopes, or the step-up, that
// would meet it, never the predicate.
func TestPredicateComposes(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	tok := a.Token(claims(bearertest.Payload{"scope": "api read", "acr": "urn:example:pwd", "auth_time": time.Now().Unix()}))
	mfa := bearer.ACR("urn:example:mfa")
	for name, tc := range map[string]struct {
		r      bearer.Requirement
		status int // 0 for met
		scope  string
		desc   string
	}{
		"all: scope and predicate met":         {bearer.AllOf(bearer.AllOf("read"), yes), 0, "", ""},
		"all: predicate unmet":                 {bearer.AllOf(bearer.AllOf("read"), no), 403, "", "insufficient privileges"},
		"all: scope unmet":                     {bearer.AllOf(bearer.AllOf("write"), yes), 403, "write", "insufficient scope"},
		"all: both unmet, the scope is named":  {bearer.AllOf(bearer.AllOf("write"), no, bearer.AnyOf("admin")), 403, "write admin", "insufficient scope"},
		"any: predicate met":                   {bearer.AnyOf(bearer.AllOf("admin"), yes), 0, "", ""},
		"any: scope met":                       {bearer.AnyOf(bearer.AllOf("read"), no), 0, "", ""},
		"any: none met, the scope is named":    {bearer.AnyOf(bearer.AllOf("admin"), no), 403, "admin", "insufficient scope"},
		"any of predicates, none met":          {bearer.AnyOf(no, no), 403, "", "insufficient privileges"},
		"all: step-up unmet comes first":       {bearer.AllOf(mfa, no), 401, "", "a different authentication level is required"},
		"any: step-up or predicate, none met":  {bearer.AnyOf(mfa, no), 401, "", "a different authentication level is required"},
		"a nil predicate requires nothing":     {bearer.Predicate(nil), 0, "", ""},
		"all with a nil predicate is the rest": {bearer.AllOf(bearer.Predicate(nil), bearer.AllOf("admin")), 403, "admin", "insufficient scope"},
		"any with a nil predicate is the rest": {bearer.AnyOf(bearer.Predicate(nil), no), 403, "", "insufficient privileges"},
	} {
		t.Run(name, func(t *testing.T) {
			_, e := require(v, tok, tc.r)
			switch {
			case tc.status == 0 && e != nil:
				t.Fatalf("refused: %v", e)
			case tc.status == 0:
			case e == nil:
				t.Fatal("accepted")
			case e.Status != tc.status || e.Scope != tc.scope || e.Description != tc.desc:
				t.Fatalf("refusal %d scope %q %q, want %d scope %q %q", e.Status, e.Scope, e.Description, tc.status, tc.scope, tc.desc)
			}
		})
	}
}

// TestPredicateInConfig: Config.RequiredScopes takes a predicate, checked
// for every request; it does not stand for an Audience.
func TestPredicateInConfig(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Audience: []string{"api"}, RequiredScopes: bearer.AllOf(bearer.AnyOf("api"), no)})
	if e := mustFail(t, v, a.Token(claims(nil)), bearer.ErrInsufficientScope, nil); e.Description != "insufficient privileges" {
		t.Errorf("refusal %+v", e)
	}
	if _, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), RequiredScopes: yes}); err == nil {
		t.Error("New accepted a predicate alone in place of an Audience")
	}
}

// TestPredicateCheck: Check with no claims is refused without calling the
// predicate.
func TestPredicateCheck(t *testing.T) {
	called := false
	p := bearer.Predicate(func(*bearer.Claims) bool { called = true; return true })
	if p.Check(nil) == nil || called {
		t.Errorf("Check(nil) met a predicate, called %v", called)
	}
	if err := p.Check(&bearer.Claims{}); err != nil || !called {
		t.Errorf("Check = %v, called %v", err, called)
	}
}

// TestActorRules: ActedBy considers the current actor only (RFC 8693
// §4.1), MaxDelegation the chain's length, and both refuse with a 403 that
// names no actor.
func TestActorRules(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	direct := a.Token(claims(nil))
	byAgent7 := a.Token(claims(bearertest.Payload{"act": map[string]any{"sub": "agent-7"}}))
	chained := a.Token(claims(bearertest.Payload{"act": chain}))
	priorAgent7 := a.Token(claims(bearertest.Payload{"act": map[string]any{"sub": "agent-8", "act": map[string]any{"sub": "agent-7"}}}))
	for name, tc := range map[string]struct {
		r    bearer.Requirement
		tok  string
		pass bool
	}{
		"only agent-7, agent-7 acts":          {bearer.ActedBy("agent-7"), byAgent7, true},
		"only agent-7, agent-7 acts, chained": {bearer.ActedBy("agent-7"), chained, true},
		"only agent-7, no one acts":           {bearer.ActedBy("agent-7"), direct, false},
		"only agent-7, agent-7 acted before":  {bearer.ActedBy("agent-7"), priorAgent7, false},
		"empty allow-list":                    {bearer.ActedBy(""), byAgent7, false},
		"no delegation, direct":               {bearer.MaxDelegation(0), direct, true},
		"no delegation, delegated":            {bearer.MaxDelegation(0), byAgent7, false},
		"depth 1, one actor":                  {bearer.MaxDelegation(1), byAgent7, true},
		"depth 1, two actors":                 {bearer.MaxDelegation(1), chained, false},
		"negative depth is 0":                 {bearer.MaxDelegation(-1), byAgent7, false},
		"agent-7 or no one, direct":           {bearer.AnyOf(bearer.ActedBy("agent-7"), bearer.MaxDelegation(0)), direct, true},
		"agent-7 or no one, agent-8":          {bearer.AnyOf(bearer.ActedBy("agent-7"), bearer.MaxDelegation(0)), priorAgent7, false},
		"agent-7 and a scope":                 {bearer.AllOf(bearer.ActedBy("agent-7"), bearer.AllOf("api")), byAgent7, true},
	} {
		t.Run(name, func(t *testing.T) {
			_, e := require(v, tc.tok, tc.r)
			if tc.pass != (e == nil) {
				t.Fatalf("refusal %v, want pass %v", e, tc.pass)
			}
			if e != nil && (e.Status != http.StatusForbidden || e.Scope != "" || e.Description != "insufficient privileges") {
				t.Errorf("refusal %d %q %q", e.Status, e.Scope, e.Description)
			}
		})
	}
}
