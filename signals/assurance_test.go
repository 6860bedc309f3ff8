package signals_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
	"github.com/accesstoken/bearer/signals"
)

// routes serves the rig's API: /stepup requires acr urn:example:mfa,
// /read the scope read alone.
func (g *rig) routes(t *testing.T) *httptest.Server {
	t.Helper()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	mux := http.NewServeMux()
	mux.Handle("/stepup", middleware.New(g.v, middleware.Require(bearer.ACR("urn:example:mfa")))(ok))
	mux.Handle("/read", middleware.New(g.v, middleware.Require(bearer.AllOf("read")))(ok))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// call sends token to url and returns the status and WWW-Authenticate.
func call(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// A CAEP assurance-level-change that lowers a user's level makes the
// user's tokens issued before it fail step-up routes with a challenge to
// sign in again, while routes of scopes alone still accept them, and a
// token issued afterwards passes. A rise gives nothing to old tokens and
// takes nothing from them; AssuranceACR maps levels to acr values.
func TestPushAssuranceLevelChange(t *testing.T) {
	g := newRig(t, func(c *signals.Config) {
		c.AssuranceACR = func(namespace, level string) string {
			if namespace == "NIST-AAL" {
				return map[string]string{"nist-aal1": "urn:example:pwd", "nist-aal2": "urn:example:mfa"}[level]
			}
			return level
		}
	})
	g.pushStream(t, "")
	srv := g.routes(t)
	at := time.Now().Add(-time.Minute)
	token := func(sub string, iat time.Time) string {
		return g.token(bearertest.Payload{"sub": sub, "acr": "urn:example:mfa", "scope": "read", "iat": iat})
	}
	push := func(sub string, event bearertest.Payload) {
		t.Helper()
		event["event_timestamp"] = at.Unix()
		set := g.transmitter.Event(bearertest.AssuranceChange, issSub(g.authority.Issuer(), sub), event)
		if status, code := g.pushSET(t, set); status != http.StatusAccepted {
			t.Fatalf("push: %d %s", status, code)
		}
	}
	stepUp := func(name, tok string, want int) {
		t.Helper()
		status, challenge := call(t, srv.URL+"/stepup", tok)
		if status != want {
			t.Errorf("%s on the step-up route: %d %s, want %d", name, status, challenge, want)
		}
		if want == http.StatusUnauthorized && !strings.Contains(challenge, `error="insufficient_user_authentication"`) {
			t.Errorf("%s: challenge %s", name, challenge)
		}
		if status, _ := call(t, srv.URL+"/read", tok); status != http.StatusOK {
			t.Errorf("%s on the route of scopes alone: %d", name, status)
		}
	}

	alice := token("alice", at.Add(-time.Second))
	stepUp("alice before the event", alice, http.StatusOK) // cached from now on
	push("alice", bearertest.Payload{"namespace": "x-example", "current_level": "urn:example:pwd", "previous_level": "urn:example:mfa", "change_direction": "decrease"})
	stepUp("alice's old token", alice, http.StatusUnauthorized)
	stepUp("alice's new token", token("alice", at.Add(time.Second)), http.StatusOK)

	carol := token("carol", at.Add(-time.Second))
	push("carol", bearertest.Payload{"namespace": "x-example", "current_level": "urn:example:hwk", "change_direction": "increase"})
	stepUp("carol after a rise", carol, http.StatusOK)

	// Without a direction, the level is applied as a lower one: mapped
	// to mfa, the token still passes; to pwd, it does not.
	dave, erin := token("dave", at.Add(-time.Second)), token("erin", at.Add(-time.Second))
	push("dave", bearertest.Payload{"namespace": "NIST-AAL", "current_level": "nist-aal1"})
	push("erin", bearertest.Payload{"namespace": "NIST-AAL", "current_level": "nist-aal2"})
	stepUp("dave at nist-aal1", dave, http.StatusUnauthorized)
	stepUp("erin at nist-aal2", erin, http.StatusOK)
	if w := g.logs.warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
}

// An assurance-level-change without its required members, or with a
// direction CAEP does not define, is refused as RFC 8935 says, and
// changes nothing.
func TestPushAssuranceLevelChangeMalformed(t *testing.T) {
	g := newRig(t, nil)
	g.pushStream(t, "")
	for name, event := range map[string]bearertest.Payload{
		"no namespace":     {"current_level": "pwd"},
		"no current_level": {"namespace": "x"},
		"level a number":   {"namespace": "x", "current_level": 1},
		"sideways":         {"namespace": "x", "current_level": "pwd", "change_direction": "sideways"},
	} {
		set := g.transmitter.Event(bearertest.AssuranceChange, issSub(g.authority.Issuer(), "alice"), event)
		if status, code := g.pushSET(t, set); status != http.StatusBadRequest || code != "invalid_request" {
			t.Errorf("%s: %d %s, want 400 invalid_request", name, status, code)
		}
	}
	if n := g.v.Status().Revocations; n != 0 {
		t.Errorf("%d revocations made", n)
	}
}
