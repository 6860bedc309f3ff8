//go:build unix

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
)

// Resource indicators and clients of examples/authority/authority.js.
const (
	apiResource       = "urn:accesstoken:api"           // JWT access tokens, aud "api"
	referenceResource = "urn:accesstoken:api:reference" // opaque access tokens, aud "api"
	otherResource     = "urn:accesstoken:other"         // JWT access tokens, aud "other"

	svcSecret = "svc-secret"
	apiSecret = "api-secret"
)

// authority is node-oidc-provider running examples/authority on a free
// loopback port.
type authority struct {
	t      testing.TB
	Issuer string
	port   int
	env    []string
	jwks   string // the authority's private JWK Set, kept across restarts
	proc   *process
}

// authorityOptions are the environment the authority starts with.
type authorityOptions struct {
	AccessTokenTTL time.Duration // default: the authority's (an hour)
	SPAURL         string        // the SPA's origin, for its redirect URIs
	// LogoutURL is the API's backchannel_logout_uri; SubjectOnlyLogout
	// makes its logout tokens name the user (sub) but not the session.
	LogoutURL         string
	SubjectOnlyLogout bool
}

// startAuthority starts examples/authority and waits for its discovery
// document.
func startAuthority(t testing.TB, o authorityOptions) *authority {
	t.Helper()
	requireNode(t)
	requireNodeModule(t, "examples/authority", "oidc-provider")
	a := &authority{t: t, jwks: filepath.Join(t.TempDir(), "jwks.json")}
	// A free port is free only when asked: another test process may take
	// it before node listens on it. Such a start is tried again on another
	// port; an authority that cannot start three times fails the test.
	for attempt := 1; ; attempt++ {
		a.port = freePort(t)
		a.Issuer = "http://127.0.0.1:" + itoa(a.port)
		a.env = []string{"PORT=" + itoa(a.port), "ISSUER=" + a.Issuer, "JWKS_FILE=" + a.jwks}
		if o.AccessTokenTTL > 0 {
			a.env = append(a.env, "ACCESS_TOKEN_TTL="+itoa(int(o.AccessTokenTTL/time.Second)))
		}
		if o.SPAURL != "" {
			a.env = append(a.env, "SPA_URL="+o.SPAURL)
		}
		if o.LogoutURL != "" {
			a.env = append(a.env, "API_LOGOUT_URL="+o.LogoutURL)
		}
		if o.SubjectOnlyLogout {
			a.env = append(a.env, "API_LOGOUT_SESSION_REQUIRED=false")
		}
		a.proc = start(a.t, "authority", filepath.Join(repoRoot(a.t), "examples/authority"), a.env, "node", "authority.js")
		err := answers(a.proc, a.Issuer+"/.well-known/openid-configuration", 20*time.Second)
		if err == nil {
			return a
		}
		a.proc.stop()
		if attempt == 3 {
			t.Fatalf("%v:\n%s", err, a.proc.out)
		}
		t.Logf("authority start %d failed, trying another port: %v\n%s", attempt, err, a.proc.out)
	}
}

func (a *authority) start() {
	a.t.Helper()
	a.proc = start(a.t, "authority", filepath.Join(repoRoot(a.t), "examples/authority"), a.env, "node", "authority.js")
	waitHTTP(a.t, a.proc, a.Issuer+"/.well-known/openid-configuration", 20*time.Second)
}

// restart stops the authority and starts it again on the same port, with
// the keys now in its JWKS file. Its in-memory state (sessions, opaque
// tokens) is lost; JWTs stay valid while their keys are published.
func (a *authority) restart() {
	a.t.Helper()
	a.proc.stop()
	a.start()
}

// rotateKeys puts a new key set in front of the old one in the JWKS file,
// with the authority's own command; restart publishes it.
func (a *authority) rotateKeys() {
	a.t.Helper()
	p := start(a.t, "rotate-keys", filepath.Join(repoRoot(a.t), "examples/authority"), nil, "node", "authority.js", "rotate-keys", a.jwks)
	<-p.done
	if p.err != nil {
		a.t.Fatalf("rotate-keys: %v\n%s", p.err, p.out)
	}
}

// withdrawOldKeys keeps only the newest key set in the JWKS file, with
// the authority's own command; restart stops publishing the old keys.
func (a *authority) withdrawOldKeys() {
	a.t.Helper()
	p := start(a.t, "retire-keys", filepath.Join(repoRoot(a.t), "examples/authority"), nil, "node", "authority.js", "retire-keys", a.jwks)
	<-p.done
	if p.err != nil {
		a.t.Fatalf("retire-keys: %v\n%s", p.err, p.out)
	}
}

// token gets an access token with the client_credentials grant.
func (a *authority) token(client, scope, resource string) string {
	a.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	if resource != "" {
		form.Set("resource", resource)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	status := a.post("/token", client, svcSecret, form, &out)
	if status != http.StatusOK || out.AccessToken == "" {
		a.t.Fatalf("token for %s (scope %q, resource %q): %d %s %s", client, scope, resource, status, out.Error, out.Description)
	}
	return out.AccessToken
}

// revoke revokes token at the revocation endpoint (RFC 7009) as client.
func (a *authority) revoke(client, token string) {
	a.t.Helper()
	if status := a.post("/token/revocation", client, svcSecret, url.Values{"token": {token}}, nil); status != http.StatusOK {
		a.t.Fatalf("revocation: %d", status)
	}
}

func (a *authority) post(path, client, secret string, form url.Values, out any) int {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.Issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(client), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			a.t.Fatalf("POST %s: %d, body: %v", path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

// publishedKIDs lists the key IDs in the authority's JWKS.
func (a *authority) publishedKIDs() []string {
	a.t.Helper()
	resp, err := http.Get(a.Issuer + "/jwks")
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		a.t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// validator returns a Validator for the walkthrough's API at this
// authority, ready to validate. edit, if not nil, changes the Config first.
func (a *authority) validator(edit func(*bearer.Config)) *bearer.Validator {
	a.t.Helper()
	cfg := bearer.Config{
		Authority:      a.Issuer,
		Audience:       []string{"api"},
		RequiredScopes: bearer.AnyOf("api"),
	}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := bearer.New(context.Background(), cfg)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { v.Close() })
	if err := v.Ready(ctx); err != nil {
		a.t.Fatal(err)
	}
	return v
}

// jwsHeader returns the alg and kid of a compact JWS.
func jwsHeader(t testing.TB, token string) (alg, kid string) {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("not a JWS: %v", err)
	}
	var h struct {
		Alg string `json:"alg"`
		KID string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("JWS header: %v", err)
	}
	if h.Typ != "at+jwt" {
		t.Errorf("typ %q, want at+jwt", h.Typ)
	}
	return h.Alg, h.KID
}
