package bearer

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Requirement is a scope requirement: the scopes a token must carry. The
// zero Requirement requires nothing. Build one with AnyOf or AllOf.
type Requirement struct {
	scopes []string
	all    bool
}

// AnyOf requires at least one of the scopes, as IdentityServer3's
// RequiredScopes did. Empty strings are ignored; AnyOf() requires nothing.
func AnyOf(scopes ...string) Requirement {
	return Requirement{scopes: cleanScopes(scopes)}
}

// AllOf requires every one of the scopes. Empty strings are ignored;
// AllOf() requires nothing.
func AllOf(scopes ...string) Requirement {
	return Requirement{scopes: cleanScopes(scopes), all: true}
}

func cleanScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		for _, f := range strings.Fields(s) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// IsZero reports whether r requires nothing.
func (r Requirement) IsZero() bool { return len(r.scopes) == 0 }

// String returns the required scopes separated by spaces, as they appear in
// the scope parameter of an insufficient_scope challenge.
func (r Requirement) String() string { return strings.Join(r.scopes, " ") }

// SatisfiedBy reports whether the granted scopes meet r. Matching is
// exact and case-sensitive (RFC 6749 §3.3).
func (r Requirement) SatisfiedBy(granted []string) bool {
	if len(r.scopes) == 0 {
		return true
	}
	for _, s := range r.scopes {
		has := slices.Contains(granted, s)
		if r.all && !has {
			return false
		}
		if !r.all && has {
			return true
		}
	}
	return r.all
}

// Check returns nil if c meets r, or an *Error with status 403 and
// code insufficient_scope naming the required scopes.
func (r Requirement) Check(c *Claims) error {
	if c != nil && r.SatisfiedBy(c.Scopes) {
		return nil
	}
	return errInsufficientScope(r.String())
}

// scopeList reads a scope claim written either as a space-separated string
// (RFC 8693 §4.2, RFC 9068) or as a JSON array of strings (common for scp).
type scopeList []string

func (s *scopeList) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*s = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = strings.Fields(str)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	// Array elements are taken literally: "a b" stays one (unmatchable)
	// scope rather than granting both a and b.
	*s = slices.DeleteFunc(list, func(v string) bool { return v == "" })
	return nil
}
