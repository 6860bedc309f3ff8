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
// RequiredScopes did. An argument may hold several scopes separated by
// spaces (U+0020 only, as in a scope parameter); empty strings are
// ignored, and AnyOf() requires nothing.
//
// A scope must be an RFC 6749 §3.3 scope-token: printable ASCII without
// space, '"' or '\'. Claims.Scopes holds nothing else, so a requirement
// naming anything else can never be met: New refuses it in
// Config.RequiredScopes, and elsewhere it refuses every token (403).
func AnyOf(scopes ...string) Requirement {
	return Requirement{scopes: cleanScopes(scopes)}
}

// AllOf requires every one of the scopes, given as for AnyOf. Empty
// strings are ignored; AllOf() requires nothing.
func AllOf(scopes ...string) Requirement {
	return Requirement{scopes: cleanScopes(scopes), all: true}
}

// cleanScopes splits its arguments on spaces. Other characters are kept
// as they are, even those no scope-token has: dropping a scope the caller
// asked for would weaken the requirement, AnyOf("\tadmin") to nothing.
func cleanScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		for f := range strings.SplitSeq(s, " ") {
			if f != "" && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// malformed returns the first scope of r that is not a scope-token, or "".
func (r Requirement) malformed() string {
	for _, s := range r.scopes {
		if !isScopeToken(s) {
			return s
		}
	}
	return ""
}

// IsZero reports whether r requires nothing.
func (r Requirement) IsZero() bool { return len(r.scopes) == 0 }

// String returns the required scopes separated by spaces, as they appear in
// the scope parameter of an insufficient_scope challenge.
func (r Requirement) String() string { return strings.Join(r.scopes, " ") }

// metBy reports whether the granted scopes meet r. Matching is exact and
// case-sensitive (RFC 6749 §3.3).
func (r Requirement) metBy(granted []string) bool {
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
	if c != nil && r.metBy(c.Scopes) {
		return nil
	}
	return errInsufficientScope(r.String())
}

// require is the requirements stage: the Config.RequiredScopes of a,
// the authority that accepted c, then the route's own (Presentation.Require).
func (a *authority) require(c *Claims, route []Requirement) error {
	if !a.s.RequiredScopes.IsZero() {
		if err := a.s.RequiredScopes.Check(c); err != nil {
			return err
		}
	}
	for _, r := range route {
		if err := r.Check(c); err != nil {
			return err
		}
	}
	return nil
}

// isScopeToken reports whether s is a scope-token (RFC 6749 §3.3):
// 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// cutScope returns the first scope-token of v, a scope claim's string,
// and the rest of v after it; ok is false if none is left.
//
// Scopes are separated by U+0020 alone (RFC 6749 §3.3), never by other
// white space: "files:read\u00a0admin" is one piece, not files:read and
// admin. Runs of spaces leave empty pieces, which are skipped. A piece
// that is not a scope-token is dropped rather than the token refused: it
// can never equal a scope a Requirement names (New refuses such
// requirements), so refusing would only lock out tokens that carry an odd
// scope meant for another API; and Claims.Scopes never shows it.
func cutScope(v string) (scope, rest string, ok bool) {
	for v != "" {
		scope, v, _ = strings.Cut(v, " ")
		if isScopeToken(scope) {
			return scope, v, true
		}
	}
	return "", "", false
}

// splitScopes returns the scope-tokens of a scope claim's string.
func splitScopes(v string) []string {
	var out []string
	for s, rest, ok := cutScope(v); ok; s, rest, ok = cutScope(rest) {
		out = append(out, s)
	}
	return out
}

// scopeTokens keeps the elements of a scope claim's array that are
// scope-tokens; each is taken whole, so "a b" is dropped rather than
// granting a and b.
func scopeTokens(list []string) []string {
	return slices.DeleteFunc(list, func(v string) bool { return !isScopeToken(v) })
}

// scopeList reads a scope claim written either as a space-separated string
// (RFC 8693 §4.2, RFC 9068) or as a JSON array of strings (common for scp),
// under the rules of cutScope. decodeObject reads claims by the same rules;
// this type is what encoding/json makes of them, for tests.
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
		*s = splitScopes(str)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*s = scopeTokens(list)
	return nil
}
