package bearer_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestNewClaims: claims made from a map read as a token's would, typed
// fields, Map, Decode and JSON alike, and refuse what a token's payload
// may not hold.
func TestNewClaims(t *testing.T) {
	exp := time.Unix(time.Now().Add(time.Hour).Unix(), 0)
	c, err := bearer.NewClaims(bearertest.Payload{
		"iss": "https://login.example", "sub": "alice", "aud": []string{"api", "web"}, "exp": exp,
		"scope": "read write", "scp": []string{"admin"}, "client_id": "spa", "jti": "j1", "sid": "s1",
		"cnf": map[string]string{"jkt": "abc"}, "roles": []string{"a", "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://login.example" || c.Subject != "alice" || len(c.Audience) != 2 || !c.ExpiresAt.Equal(exp) ||
		!c.HasScope("write") || !c.HasScope("admin") || c.ClientID != "spa" || c.ID != "j1" || c.SessionID != "s1" ||
		string(c.Confirmation) != `{"jkt":"abc"}` {
		t.Errorf("typed fields %+v", c)
	}
	if roles, ok := c.Map()["roles"].([]any); !ok || len(roles) != 2 {
		t.Errorf("Map %v", c.Map())
	}
	var ext struct{ Roles []string }
	if err := c.Decode(&ext); err != nil || len(ext.Roles) != 2 {
		t.Errorf("Decode: %v %v", ext, err)
	}
	b, err := json.Marshal(c)
	var back map[string]any
	if err != nil || json.Unmarshal(b, &back) != nil || back["sub"] != "alice" || back["exp"] != float64(exp.Unix()) {
		t.Errorf("MarshalJSON: %s %v", b, err)
	}
	if bearer.AnyOf("admin").Check(c) != nil || bearer.AllOf("admin", "other").Check(c) == nil {
		t.Error("scopes do not check as a token's")
	}

	empty, err := bearer.NewClaims(nil)
	if err != nil || empty.Subject != "" || len(empty.Map()) != 0 {
		t.Errorf("NewClaims(nil) = %+v, %v", empty, err)
	}
	for name, bad := range map[string]bearertest.Payload{
		"exp a string":    {"exp": "soon"},
		"iss a number":    {"iss": 7},
		"aud an object":   {"aud": map[string]bool{"api": true}},
		"not JSON at all": {"f": func() {}},
	} {
		if _, err := bearer.NewClaims(bad); err == nil {
			t.Errorf("%s: accepted", name)
		} else if errors.Is(err, bearer.ErrInvalidToken) {
			t.Errorf("%s: %v is a token error, not a usage error", name, err)
		}
	}
}

// TestHandMadeResultMarshals: a Result made by hand has no Claims; it
// marshals as an empty object rather than panicking through the
// embedded Claims' MarshalJSON.
func TestHandMadeResultMarshals(t *testing.T) {
	for _, v := range []any{bearer.Result{Active: false}, &bearer.Result{Active: true}, &bearer.Claims{}} {
		b, err := json.Marshal(v)
		if err != nil || string(b) != "{}" {
			t.Errorf("%T: %s %v", v, b, err)
		}
	}
}
