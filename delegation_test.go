package bearer_test

import (
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// chain is an act claim: agent-7 acts now, for service-3, which acted
// for the token's subject before.
var chain = map[string]any{
	"sub": "agent-7", "iss": "https://agents.example", "client_id": "c7",
	"act": map[string]any{"sub": "service-3"},
}

// TestActorsRead: the actor chain and may_act, from a JWT and an
// introspection answer, cached or not.
func TestActorsRead(t *testing.T) {
	a := bearertest.New(t)
	jwt := newValidator(t, a, bearer.Config{})
	ref := newValidator(t, a, introspectionConfig(bearer.Config{}))
	p := claims(bearertest.Payload{"act": chain, "may_act": map[string]any{"sub": "agent-9"}})
	jwtTok, refTok := a.Token(p), a.ReferenceToken(p)
	for _, tc := range []struct {
		name string
		v    *bearer.Validator
		tok  string
	}{{"jwt", jwt, jwtTok}, {"jwt, cached", jwt, jwtTok}, {"introspected", ref, refTok}, {"introspected, cached", ref, refTok}} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustValid(t, tc.v, tc.tok)
			got := c.Actors()
			if len(got) != 2 || got[0].Subject != "agent-7" || got[0].Issuer != "https://agents.example" || got[1].Subject != "service-3" || got[1].Issuer != "" {
				t.Fatalf("Actors() = %+v", got)
			}
			if m := c.MayAct(); m == nil || m.Subject != "agent-9" || string(m.Raw) != `{"sub":"agent-9"}` {
				t.Errorf("MayAct() = %+v", m)
			}
		})
	}
	c := mustValid(t, jwt, a.Token(claims(nil)))
	if c.Actors() != nil || c.MayAct() != nil {
		t.Errorf("a token acted for by no one: %+v, %+v", c.Actors(), c.MayAct())
	}
}

// TestMalformedActRefused: act and may_act must be objects naming their
// party with strings, at every depth; otherwise the token is malformed.
func TestMalformedActRefused(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	for name, bad := range map[string]bearertest.Payload{
		"act a string":           {"act": "agent-7"},
		"act an array":           {"act": []any{map[string]any{"sub": "agent-7"}}},
		"act sub a number":       {"act": map[string]any{"sub": 7}},
		"act iss an object":      {"act": map[string]any{"sub": "a", "iss": map[string]any{}}},
		"nested act a string":    {"act": map[string]any{"sub": "a", "act": "b"}},
		"nested act sub a bool":  {"act": map[string]any{"sub": "a", "act": map[string]any{"sub": true}}},
		"may_act a string":       {"may_act": "agent-7"},
		"may_act sub a number":   {"may_act": map[string]any{"sub": 1}},
		"act in another case":    {"ACT": map[string]any{"sub": "a"}},
		"act sub in other cases": {"act": map[string]any{"sub": "a", "SUB": "b"}},
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, a.Token(claims(bad)), bearer.ErrInvalidToken, bearer.ErrMalformed)
		})
	}
	for name, ok := range map[string]bearertest.Payload{
		"act null":              {"act": nil},
		"act without sub":       {"act": map[string]any{"client_id": "c"}},
		"nested act null":       {"act": map[string]any{"sub": "a", "act": nil}},
		"act with exp, ignored": {"act": map[string]any{"sub": "a", "exp": "whenever"}},
	} {
		t.Run(name, func(t *testing.T) {
			mustValid(t, v, a.Token(claims(ok)))
		})
	}
}
