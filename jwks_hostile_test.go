package bearer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/observe"
)

// oddKey is a key of testdata/jwks/odd-keys.json: one no token can be
// verified with, as authorities publish them (post-quantum keys on
// toolchains without ML-DSA, secp256k1, Ed448, X25519, secrets, unknown
// kty, garbage x5c, broken RSA members, encryption keys, short RSA, and
// entries that are not objects).
type oddKey struct {
	raw    json.RawMessage
	kid    string
	reason string // why it is skipped; "" if this build can use it
}

// oddKeys reads the fixture. Each key names the reason it is skipped in
// x-test-skip, a member the library must ignore like any unknown one; an
// entry that is not an object is malformed. A key whose x-test-needs
// names an algorithm this build verifies (ML-DSA on Go 1.27) is usable.
func oddKeys(t *testing.T) []oddKey {
	t.Helper()
	body, err := os.ReadFile("testdata/jwks/odd-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	var keys []oddKey
	for _, raw := range set.Keys {
		k := oddKey{raw: raw, reason: "malformed"}
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil && m != nil {
			k.kid, _ = m["kid"].(string)
			k.reason, _ = m["x-test-skip"].(string)
			if needs, _ := m["x-test-needs"].(string); needs != "" && bearer.Supports(needs) {
				k.reason = ""
			}
			if k.kid == "" || !strings.Contains(string(raw), "x-test-skip") {
				t.Fatalf("fixture entry without kid or x-test-skip: %s", raw)
			}
		}
		keys = append(keys, k)
	}
	return keys
}

// usableKeys returns a's keys as some authorities publish them: without
// alg (chosen then by kty and crv), with use and key_ops spelled out, an
// unknown key operation, and members of their own.
func usableKeys(t *testing.T, a *bearertest.Authority) []json.RawMessage {
	t.Helper()
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(a.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	for _, k := range set.Keys {
		switch k["alg"] {
		case "RS256":
			k["x-vendor"] = map[string]any{"nested": []any{1, true, nil}}
			k["use"] = "sig"
		case "PS256":
			k["key_ops"] = []string{"verify", "x-vendor-op"}
		case "ES256", "ES512":
			delete(k, "alg")
		case "ES384":
			delete(k, "alg")
			k["use"] = "sig"
			k["ext"] = true
		case "EdDSA":
			delete(k, "alg")
			k["key_ops"] = []string{"verify"}
			k["x5t"] = "not checked"
		}
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// jwkSet is a JWK Set of keys, with a member of its own.
func jwkSet(keys ...json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys, "x-generated": "test"})
	return b
}

// skippedLogged returns, from the logs, the kid and reason of each key
// logged as skipped, and the number of lines.
func skippedLogged(logs string) (map[string]string, int) {
	re := regexp.MustCompile(`msg="bearer: JWKS key skipped; the others are used" .*?kid=("[^"]*"|\S*) reason=(\S+)`)
	got := map[string]string{}
	lines := re.FindAllStringSubmatch(logs, -1)
	for _, m := range lines {
		got[strings.Trim(m[1], `"`)] = m[2]
	}
	return got, len(lines)
}

// jwksRefreshes returns the observed fetches of the JWK Set.
func jwksRefreshes(obs *observations) []observe.Refresh {
	var out []observe.Refresh
	for _, r := range obs.refreshList() {
		if r.Document == "jwks" {
			out = append(out, r)
		}
	}
	return out
}

// TestHostileJWKSAllAtOnce: a JWK Set that mixes usable keys with every
// kind of key this library cannot use verifies every token of the usable
// keys; each other key is skipped, counted by its reason for the
// Observer and logged once, and a token naming one is refused 401.
func TestHostileJWKSAllAtOnce(t *testing.T) {
	a := bearertest.New(t)
	odd, usable := oddKeys(t), usableKeys(t, a)
	var keys []json.RawMessage
	want := map[string]int{}
	for i := range max(len(odd), len(usable)) {
		if i < len(odd) {
			keys = append(keys, odd[i].raw)
			if odd[i].reason != "" {
				want[odd[i].reason]++
			}
		}
		if i < len(usable) {
			keys = append(keys, usable[i])
		}
	}
	a.SetBody(bearertest.JWKS, jwkSet(keys...))
	obs := &observations{}
	var logs logBuffer
	v := newValidator(t, a, bearer.Config{Observer: obs, Logger: logs.logger()})

	for _, alg := range bearer.DefaultAlgorithms {
		mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
	}
	if st := v.Status(); st.Keys < len(usable) || st.Keys > len(usable)+1 {
		t.Errorf("Status().Keys = %d, want the %d usable keys", st.Keys, len(usable))
	}
	refreshes := jwksRefreshes(obs)
	if len(refreshes) != 1 || !maps.Equal(refreshes[0].Skipped, want) {
		t.Fatalf("JWKS fetches %+v, want one that skipped %v", refreshes, want)
	}

	// The first keys skipped are logged with their reasons, the rest
	// counted in one line.
	logged, lines := skippedLogged(logs.String())
	if lines != 8 || !strings.Contains(logs.String(), `msg="bearer: more JWKS keys skipped"`) {
		t.Errorf("%d keys logged as skipped, want 8 and a line for the others:\n%s", lines, logs.String())
	}
	byKid := map[string]string{}
	for _, k := range odd {
		byKid[k.kid] = k.reason
	}
	for kid, reason := range logged {
		if kid != "" && byKid[kid] != reason {
			t.Errorf("key %q logged as skipped for %s, want %s", kid, reason, byKid[kid])
		}
	}

	// A token naming a skipped key is refused; the set fetched again, as
	// it was, logs and counts nothing more.
	before := logs.String()
	for _, kid := range []string{"enc", "rsa-1024", "secret"} {
		mustFail(t, v, a.TokenWith("RS256", map[string]any{"kid": kid}, claims(nil)), bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	}
	refreshes = jwksRefreshes(obs)
	if len(refreshes) < 2 {
		t.Fatalf("the set was not fetched again: %+v", refreshes)
	}
	for _, r := range refreshes[1:] {
		if r.Err != nil || r.Skipped != nil {
			t.Errorf("fetch of the same set: error %v, skipped %v", r.Err, r.Skipped)
		}
	}
	if after := logs.String(); strings.Count(after, "JWKS key skipped") != strings.Count(before, "JWKS key skipped") {
		t.Errorf("the same set logged its skipped keys again:\n%s", after[len(before):])
	}
}

// TestHostileJWKSEachAlone: each odd key, alone beside the usable ones, is
// skipped for its reason and leaves every usable key working.
func TestHostileJWKSEachAlone(t *testing.T) {
	a := bearertest.New(t)
	usable := usableKeys(t, a)
	for i, odd := range oddKeys(t) {
		name := odd.kid
		if name == "" {
			name = fmt.Sprintf("entry-%d", i)
		}
		t.Run(name, func(t *testing.T) {
			a.SetBody(bearertest.JWKS, jwkSet(append([]json.RawMessage{odd.raw}, usable...)...))
			obs := &observations{}
			var logs logBuffer
			v := newValidator(t, a, bearer.Config{Observer: obs, Logger: logs.logger()})
			for _, alg := range bearer.DefaultAlgorithms {
				mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
			}
			want := map[string]int{odd.reason: 1}
			if odd.reason == "" {
				want = nil
			}
			if r := jwksRefreshes(obs); len(r) != 1 || !maps.Equal(r[0].Skipped, want) {
				t.Fatalf("JWKS fetches %+v, want one that skipped %v", r, want)
			}
			if logged, _ := skippedLogged(logs.String()); odd.reason != "" && logged[odd.kid] != odd.reason {
				t.Errorf("logged %v, want %q skipped for %s:\n%s", logged, odd.kid, odd.reason, logs.String())
			}
		})
	}
}

// TestHostileJWKSOnlyOddKeys: a set of odd keys alone is a failed fetch,
// never fatal: at start tokens get 503, never 401, and the error counts
// the reasons; once the authority publishes a usable key again it is
// used; and a set that turns odd later leaves the last good keys in use.
func TestHostileJWKSOnlyOddKeys(t *testing.T) {
	a := bearertest.New(t)
	var keys []json.RawMessage
	for _, k := range oddKeys(t) {
		if k.reason != "" {
			keys = append(keys, k.raw)
		}
	}
	odd := jwkSet(keys...)
	a.SetBody(bearertest.JWKS, odd)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Logger: (&logBuffer{}).logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok := a.Token(claims(nil))
	mustFail(t, v, tok, bearer.ErrUnavailable, nil)
	if st := v.Status(); st.Ready || st.LastError == nil || !strings.Contains(st.LastError.Error(), "no usable key") || !strings.Contains(st.LastError.Error(), "weak_key: 1") {
		t.Errorf("Status %+v", st)
	}

	a.SetBody(bearertest.JWKS, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	mustValid(t, v, tok)

	a.SetBody(bearertest.JWKS, odd)
	mustUnavailable(t, validateErr(v, a.TokenWith("RS256", map[string]any{"kid": "new"}, claims(nil))))
	mustValid(t, v, a.TokenWith("ES256", nil, claims(nil)))
}
