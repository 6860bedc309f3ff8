package bearer_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

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
		for name, c := range map[string]bearertest.Claims{
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
	c := mustValid(t, loose, a.Token(bearertest.Claims{"aud": "api", "scope": "  read   files:read\u00a0admin write \"q\" \\ ", "scp": []string{"", "a b", "scp:x", "\u00e9"}}))
	if want := []string{"read", "write", "scp:x"}; !slices.Equal(c.Scopes, want) {
		t.Errorf("scopes %q, want %q", c.Scopes, want)
	}

	// Requirements split on spaces alone too, and keep what no scope
	// matches: dropping it would weaken them (AnyOf("\tadmin") to nothing).
	admin := mustValid(t, loose, a.Token(bearertest.Claims{"aud": "api", "scope": "admin read"}))
	for _, sp := range otherSpaces {
		for _, r := range []bearer.Requirement{bearer.AnyOf(sp + "admin"), bearer.AllOf("admin" + sp), bearer.AnyOf(sp)} {
			if r.IsZero() || r.SatisfiedBy(admin.Scopes) || !errors.Is(r.Check(admin), bearer.ErrInsufficientScope) {
				t.Errorf("requirement %q met by %q", r, admin.Scopes)
			}
			_, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), RequiredScopes: r})
			if err == nil || !strings.Contains(err.Error(), "scope-token") {
				t.Errorf("New with RequiredScopes %q: %v", r, err)
			}
		}
	}
	if r := bearer.AllOf(" admin  read "); r.String() != "admin read" || !r.SatisfiedBy(admin.Scopes) {
		t.Errorf("AllOf(\" admin  read \") = %q", r)
	}
}
