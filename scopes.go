package bearer

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

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
