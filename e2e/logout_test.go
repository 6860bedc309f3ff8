//go:build unix

package e2e

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// logoutAPI is the walkthrough's API with its back-channel logout
// endpoint, started before the authority (which must know where to post)
// and given its Validator once the authority is up. It keeps the logout
// tokens it receives, for the test to look at.
type logoutAPI struct {
	srv       *httptest.Server
	LogoutURL string
	ValuesURL string

	mu      sync.Mutex
	handler http.Handler
	tokens  []string
	// rewrite, if set, replaces each logout token before the handler
	// sees it, to stand for another authority's.
	rewrite func(token string) string
}

func newLogoutAPI(t testing.TB) *logoutAPI {
	t.Helper()
	api := &logoutAPI{}
	api.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/backchannel-logout" {
			token := r.PostFormValue("logout_token")
			api.mu.Lock()
			api.tokens = append(api.tokens, token)
			rewrite := api.rewrite
			api.mu.Unlock()
			if rewrite != nil {
				body := url.Values{"logout_token": {rewrite(token)}}.Encode()
				r.Body, r.ContentLength, r.Form, r.PostForm = io.NopCloser(strings.NewReader(body)), int64(len(body)), nil, nil
			}
		}
		api.mu.Lock()
		h := api.handler
		api.mu.Unlock()
		if h == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(api.srv.Close)
	api.LogoutURL, api.ValuesURL = api.srv.URL+"/backchannel-logout", api.srv.URL+"/values"
	return api
}

// serve routes GET /values behind the bearer middleware and POST
// /backchannel-logout to v's logout endpoint, as examples/api does.
func (api *logoutAPI) serve(v *bearer.Validator) {
	mux := http.NewServeMux()
	mux.Handle("GET /values", middleware.New(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode([]string{"4", "2"})
	})))
	mux.Handle("POST /backchannel-logout", v.LogoutHandler())
	api.mu.Lock()
	api.handler = mux
	api.mu.Unlock()
}

func (api *logoutAPI) logoutTokens() []string {
	api.mu.Lock()
	defer api.mu.Unlock()
	return append([]string(nil), api.tokens...)
}

// TestBackchannelLogout: a user signs out at node-oidc-provider, which
// posts a logout token to the API before it answers the user; the access
// token of the session, replayed by the test, is then refused as revoked,
// within a second of the sign-out. For a JWT that carries the session's
// sid; for an opaque token whose active answer the API cached (the
// introspection answer names no sid for the API, so the logout token's
// sub and iat revoke it); and for a logout token that names only the
// user, as an authority sends it when the API's client does not require
// sessions.
func TestBackchannelLogout(t *testing.T) {
	for _, tc := range []struct {
		name        string
		resource    string
		subjectOnly bool
	}{
		{"JWT of the session", apiResource, false},
		{"opaque token with its answer cached", referenceResource, false},
		{"JWT, logout token without sid", apiResource, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newLogoutAPI(t)
			a := startAuthority(t, authorityOptions{LogoutURL: api.LogoutURL, SubjectOnlyLogout: tc.subjectOnly})
			// Answers are cached for a minute: only the logout can refuse
			// the opaque token before then.
			api.serve(a.validator(withIntrospection(time.Minute)))

			s, token := a.signIn(t, "alice", tc.resource)
			wantStatus(t, "signed in", call(t, api.ValuesURL, token), http.StatusOK, "")
			wantStatus(t, "signed in, again", call(t, api.ValuesURL, token), http.StatusOK, "")

			start := time.Now()
			s.signOut(t)
			signedOut := time.Since(start)
			r := call(t, api.ValuesURL, token)
			refused := time.Since(start)
			wantStatus(t, "the same token after sign-out", r, http.StatusUnauthorized, "invalid_token")
			if !strings.Contains(r.Challenge, `error_description="token revoked"`) {
				t.Errorf("the same token after sign-out: %q, want token revoked", r.Challenge)
			}
			t.Logf("sign-out took %v at the authority (logout token delivered); the replayed token was refused %v after the sign-out began",
				signedOut.Round(time.Millisecond), refused.Round(time.Millisecond))
			if refused > time.Second {
				t.Errorf("the replayed token was refused %v after the sign-out began, want within 1s", refused)
			}

			lts := api.logoutTokens()
			if len(lts) != 1 {
				t.Fatalf("%d logout tokens received, want 1", len(lts))
			}
			lt := jwtClaims(t, lts[0])
			sid, hasSid := lt["sid"].(string)
			if lt["sub"] != "alice" || hasSid == tc.subjectOnly {
				t.Errorf("logout token names sub %v, sid %q; want alice, and a sid unless subject-only", lt["sub"], sid)
			}
			switch {
			case tc.resource == referenceResource:
				// The answer was evicted: the authority, asked again, has
				// ended the grant with the session.
				r := call(t, api.ValuesURL, token)
				if r.Status != http.StatusUnauthorized || !strings.Contains(r.Challenge, `error_description="token not active"`) {
					t.Errorf("opaque token asked about again: %d %q, want token not active", r.Status, r.Challenge)
				}
			case !tc.subjectOnly:
				if at := jwtClaims(t, token)["sid"]; at != sid {
					t.Errorf("the access token's sid %v is not the logout token's %q", at, sid)
				}
			}
		})
	}
}

// TestBackchannelLogoutTypJWT: Keycloak before 25 and Authentik before
// 2025.12 head their logout tokens typ JWT, which Back-Channel Logout 1.0
// §2.4 allows. node-oidc-provider always sends logout+jwt, so the API's
// front re-signs the logout token of a real sign-out under typ JWT with the
// authority's own published key, as such an authority would have sent it:
// the API accepts it, and the session's access token is refused at once.
func TestBackchannelLogoutTypJWT(t *testing.T) {
	api := newLogoutAPI(t)
	a := startAuthority(t, authorityOptions{LogoutURL: api.LogoutURL})
	retyped := make(chan string, 1)
	api.rewrite = func(token string) string {
		lt, err := a.resign(token, "JWT")
		if err != nil {
			t.Errorf("re-signing the logout token: %v", err)
			return token
		}
		select {
		case retyped <- lt:
		default:
		}
		return lt
	}
	api.serve(a.validator(withIntrospection(time.Minute)))

	s, token := a.signIn(t, "alice", apiResource)
	wantStatus(t, "signed in", call(t, api.ValuesURL, token), http.StatusOK, "")
	s.signOut(t)
	r := call(t, api.ValuesURL, token)
	wantStatus(t, "the same token after a sign-out with a logout token of typ JWT", r, http.StatusUnauthorized, "invalid_token")
	if !strings.Contains(r.Challenge, `error_description="token revoked"`) {
		t.Errorf("the same token after sign-out: %q, want token revoked", r.Challenge)
	}
	select {
	case lt := <-retyped:
		header, _ := base64.RawURLEncoding.DecodeString(strings.Split(lt, ".")[0])
		if !strings.Contains(string(header), `"typ":"JWT"`) {
			t.Errorf("the API got a logout token headed %s, want typ JWT", header)
		}
	default:
		t.Error("no logout token was re-signed")
	}
}

// resign signs the header and payload of a JWS signed RS256 by the
// authority again, with the same key from its JWKS file, under typ.
func (a *authority) resign(token, typ string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a JWS")
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", err
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(header, &h); err != nil {
		return "", err
	}
	if h.Alg != "RS256" {
		return "", fmt.Errorf("signed %s, want RS256", h.Alg)
	}
	key, err := a.privateRSAKey(h.Kid)
	if err != nil {
		return "", err
	}
	header, _ = json.Marshal(map[string]string{"alg": h.Alg, "kid": h.Kid, "typ": typ})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + parts[1]
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// privateRSAKey reads the RSA key kid from the authority's JWKS file.
func (a *authority) privateRSAKey(kid string) (*rsa.PrivateKey, error) {
	raw, err := os.ReadFile(a.jwks)
	if err != nil {
		return nil, err
	}
	var set struct{ Keys []map[string]string }
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	for _, k := range set.Keys {
		if k["kid"] != kid || k["kty"] != "RSA" {
			continue
		}
		n := map[string]*big.Int{}
		for _, name := range []string{"n", "e", "d", "p", "q"} {
			b, err := base64.RawURLEncoding.DecodeString(k[name])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			n[name] = new(big.Int).SetBytes(b)
		}
		key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n["n"], E: int(n["e"].Int64())}, D: n["d"], Primes: []*big.Int{n["p"], n["q"]}}
		key.Precompute()
		return key, key.Validate()
	}
	return nil, fmt.Errorf("no RSA key %q in %s", kid, a.jwks)
}
