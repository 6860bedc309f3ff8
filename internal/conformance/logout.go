package conformance

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// LogoutPath is where RunLogout's router mounts the back-channel logout
// endpoint (bearer.Validator.LogoutHandler), for every method.
const LogoutPath = "/backchannel-logout"

// LogoutCase is one request to the back-channel logout endpoint and the
// response every adapter must give it.
type LogoutCase struct {
	Name string
	// Ref names the specification section the case comes from.
	Ref string
	// Token mints the logout token with the authority of the case; the
	// body is logout_token={token} unless Body says otherwise.
	Token func(a *bearertest.Authority) string
	// Body, if set, is the request body with "{token}" filled in.
	Body        string
	Method      string // default POST
	ContentType string // default application/x-www-form-urlencoded
	// Down sends the request to a validator whose authority is
	// unreachable.
	Down bool
	// Twice sends the request a second time; Want is the second answer.
	Twice bool
	Want  Want
}

// LogoutEnv is what the logout cases run against: an authority, and
// validators that know this API as the authority's client
// bearertest.DefaultClientID.
type LogoutEnv struct {
	Authority *bearertest.Authority
	OK, Down  *bearer.Validator
}

// NewLogoutEnv starts the authority and the validators, closed when t
// ends, logging to logger.
func NewLogoutEnv(t testing.TB, logger *slog.Logger) *LogoutEnv {
	t.Helper()
	a := bearertest.New(t)
	cfg := func(authority string) bearer.Config {
		return bearer.Config{
			Authority: authority, Audience: []string{"api"}, Mode: bearer.ModeJWT, Logger: logger, Timeout: setupTimeout,
			ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret,
		}
	}
	ok := newValidator(t, cfg(a.Issuer()))
	ready(t, ok)
	gone := bearertest.NewAuthority()
	gone.Close()
	return &LogoutEnv{Authority: a, OK: ok, Down: newValidator(t, cfg(gone.Issuer()))}
}

// RunLogout runs every logout case against the handler mount returns for
// the validator's LogoutHandler, served at LogoutPath for every method,
// over a real loopback connection.
func RunLogout(t *testing.T, mount func(h http.Handler) http.Handler) {
	t.Helper()
	env := NewLogoutEnv(t, quiet)
	for _, c := range LogoutCases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Logf("%s (%s)", c.Name, c.Ref)
			t.Parallel()
			v := env.OK
			if c.Down {
				v = env.Down
			}
			srv := httptest.NewServer(mount(v.LogoutHandler()))
			defer srv.Close()
			token := ""
			if c.Token != nil {
				token = c.Token(env.Authority)
			}
			resp, body := c.send(t, srv, token)
			if c.Twice {
				resp, body = c.send(t, srv, token)
			}
			CheckResponse(t, resp, body, c.Want)
		})
	}
}

func (c LogoutCase) send(t *testing.T, srv *httptest.Server, token string) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.Client().Do(c.Request(srv.URL, token))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// Request returns the HTTP request of c for the server at base.
func (c LogoutCase) Request(base, token string) *http.Request {
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	body := "logout_token=" + url.QueryEscape(token)
	if c.Body != "" {
		body = Fill(c.Body, url.QueryEscape(token))
	}
	req, err := http.NewRequest(method, base+LogoutPath, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	ct := c.ContentType
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", ct)
	return req
}

// Logout tokens of the table.

// logoutToken mints a logout token with c over the defaults of
// bearertest (sub alice, no sid, typ logout+jwt, RS256).
func logoutToken(c bearertest.Payload) func(a *bearertest.Authority) string {
	return logoutHeaded("RS256", nil, c)
}

func logoutHeaded(alg string, header map[string]any, c bearertest.Payload) func(a *bearertest.Authority) string {
	return func(a *bearertest.Authority) string { return a.LogoutTokenWith(alg, header, c) }
}

// rawLogout signs header and payload verbatim with the RS256 key, after
// replacing {iss}, {kid}, {iat} (now), {exp} (two minutes from now) and
// {jti} (unique).
func rawLogout(header, payload string) func(a *bearertest.Authority) string {
	return func(a *bearertest.Authority) string {
		now := time.Now()
		r := strings.NewReplacer("{iss}", a.Issuer(), "{kid}", a.KeyID("RS256"),
			"{iat}", strconv.FormatInt(now.Unix(), 10), "{exp}", strconv.FormatInt(now.Add(2*time.Minute).Unix(), 10),
			"{jti}", strconv.FormatInt(now.UnixNano(), 36))
		return a.Sign("RS256", []byte(r.Replace(header)), []byte(r.Replace(payload)))
	}
}

const (
	logoutHeader = `{"alg":"RS256","typ":"logout+jwt","kid":"{kid}"}`
	logoutEvents = `"events":{"http://schemas.openid.net/event/backchannel-logout":{}}`
)

func loggedOut() Want {
	return Want{Status: http.StatusOK, Header: map[string]string{"Cache-Control": "no-store"}}
}

// logoutRefused is the §2.8 error response.
func logoutRefused(status int, code, description string) Want {
	return Want{Status: status, Body: `{"error":"` + code + `","error_description":"` + description + `"}` + "\n", Header: map[string]string{
		"Cache-Control":          "no-store",
		"Content-Type":           jsonType,
		"X-Content-Type-Options": "nosniff",
	}}
}

func badLogout(description string) Want {
	return logoutRefused(http.StatusBadRequest, "invalid_request", description)
}

// LogoutCases returns the logout table. Each call returns fresh values.
func LogoutCases() []LogoutCase {
	var cases []LogoutCase
	add := func(ref string, cs ...LogoutCase) {
		for _, c := range cs {
			c.Ref = ref
			cases = append(cases, c)
		}
	}
	ago := func(d time.Duration) time.Time { return time.Now().Add(-d) }
	hs256 := func(a *bearertest.Authority) string {
		input := b64([]byte(`{"alg":"HS256","typ":"logout+jwt"}`)) + "." + b64([]byte(`{"iss":"`+a.Issuer()+
			`","aud":"api","sub":"alice","jti":"hs","iat":`+strconv.FormatInt(time.Now().Unix(), 10)+
			`,"exp":`+strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)+`,`+logoutEvents+`}`))
		m := hmac.New(sha256.New, []byte("an attacker's secret of 32 bytes!"))
		m.Write([]byte(input))
		return input + "." + b64(m.Sum(nil))
	}
	otherSignature := func(a *bearertest.Authority) string {
		t1 := strings.Split(a.LogoutToken(bearertest.Payload{"sub": "mallory"}), ".")
		t2 := strings.Split(a.LogoutToken(nil), ".")
		return t1[0] + "." + t1[1] + "." + t2[2]
	}

	add("OIDC Back-Channel Logout 1.0 §2.8",
		LogoutCase{Name: "session logged out", Token: logoutToken(bearertest.Payload{"sid": "08a5019c-17e1"}), Want: loggedOut()},
		LogoutCase{Name: "session and subject logged out", Token: logoutToken(bearertest.Payload{"sid": "08a5019c-17e2", "sub": "bob"}), Want: loggedOut()},
	)
	add("OIDC Back-Channel Logout 1.0 §2.4",
		LogoutCase{Name: "subject logged out, no sid", Token: logoutToken(nil), Want: loggedOut()},
		LogoutCase{Name: "no typ", Token: logoutHeaded("RS256", map[string]any{"typ": nil}, bearertest.Payload{"sid": "s"}), Want: loggedOut()},
		LogoutCase{Name: "typ application/logout+jwt", Token: logoutHeaded("RS256", map[string]any{"typ": "application/logout+jwt"}, nil), Want: loggedOut()},
		// §2.4 only recommends logout+jwt; Keycloak before 25 and
		// Authentik before 2025.12 send JWT. events and no nonce (§4.1)
		// keep ID tokens out.
		LogoutCase{Name: "typ JWT", Token: logoutHeaded("RS256", map[string]any{"typ": "JWT"}, nil), Want: loggedOut()},
		LogoutCase{Name: "typ application/jwt", Token: logoutHeaded("RS256", map[string]any{"typ": "application/jwt"}, nil), Want: loggedOut()},
		LogoutCase{Name: "typ Logout+JWT", Token: logoutHeaded("RS256", map[string]any{"typ": "Logout+JWT"}, nil), Want: loggedOut()},
		LogoutCase{Name: "signed with ES256", Token: logoutHeaded("ES256", nil, nil), Want: loggedOut()},
		LogoutCase{Name: "no sub nor sid", Token: logoutToken(bearertest.Payload{"sub": nil}), Want: badLogout("malformed token")},
		LogoutCase{Name: "no jti", Token: logoutToken(bearertest.Payload{"jti": nil}), Want: badLogout("malformed token")},
		LogoutCase{Name: "no iat", Token: logoutToken(bearertest.Payload{"iat": nil}), Want: badLogout("malformed token")},
		LogoutCase{Name: "no exp", Token: logoutToken(bearertest.Payload{"exp": nil}), Want: badLogout("malformed token")},
		LogoutCase{Name: "sid not a string", Token: logoutToken(bearertest.Payload{"sid": 42}), Want: badLogout("malformed token")},
		LogoutCase{Name: "no events", Token: logoutToken(bearertest.Payload{"events": nil}), Want: badLogout("not a logout token")},
		LogoutCase{Name: "events without the logout event", Token: logoutToken(bearertest.Payload{"events": map[string]any{"urn:other": map[string]any{}}}), Want: badLogout("not a logout token")},
		LogoutCase{Name: "logout event not an object", Token: logoutToken(bearertest.Payload{"events": map[string]any{bearertest.BackchannelLogoutEvent: true}}), Want: badLogout("not a logout token")},
		LogoutCase{Name: "events an array", Token: logoutToken(bearertest.Payload{"events": []string{bearertest.BackchannelLogoutEvent}}), Want: badLogout("not a logout token")},
		LogoutCase{Name: "nonce, as in an ID token", Token: logoutToken(bearertest.Payload{"nonce": "n-0S6_WzA2Mj"}), Want: badLogout("not a logout token")},
		LogoutCase{Name: "an access token", Token: func(a *bearertest.Authority) string {
			return a.TokenWith("RS256", map[string]any{"typ": nil}, bearertest.Payload{"aud": "api", "sid": "s"})
		}, Want: badLogout("not a logout token")},
		LogoutCase{Name: "an ID token, typ JWT", Token: func(a *bearertest.Authority) string {
			return a.TokenWith("RS256", map[string]any{"typ": "JWT"}, bearertest.Payload{"aud": "api", "sid": "s", "nonce": "n-0S6_WzA2Mj"})
		}, Want: badLogout("not a logout token")},
	)
	add("RFC 8725 §3.11",
		LogoutCase{Name: "typ at+jwt", Token: logoutHeaded("RS256", map[string]any{"typ": "at+jwt"}, nil), Want: badLogout("token type not accepted")},
		LogoutCase{Name: "typ id_token+jwt", Token: logoutHeaded("RS256", map[string]any{"typ": "id_token+jwt"}, nil), Want: badLogout("token type not accepted")},
		LogoutCase{Name: "typ secevent+jwt", Token: logoutHeaded("RS256", map[string]any{"typ": "secevent+jwt"}, nil), Want: badLogout("token type not accepted")},
	)
	add("OIDC Back-Channel Logout 1.0 §2.6",
		LogoutCase{Name: "other issuer", Token: logoutToken(bearertest.Payload{"iss": "https://evil.example"}), Want: badLogout("issuer mismatch")},
		LogoutCase{Name: "for another client", Token: logoutToken(bearertest.Payload{"aud": "another-client"}), Want: badLogout("audience mismatch")},
		LogoutCase{Name: "iat in the future", Token: logoutToken(bearertest.Payload{"iat": time.Now().Add(5 * time.Minute)}), Want: badLogout("token issued in the future")},
		LogoutCase{Name: "expired", Token: func(a *bearertest.Authority) string {
			return a.LogoutToken(bearertest.Payload{"iat": ago(10 * time.Minute), "exp": ago(5 * time.Minute)})
		}, Want: badLogout("token expired")},
		LogoutCase{Name: "expired within the leeway", Token: func(a *bearertest.Authority) string {
			return a.LogoutToken(bearertest.Payload{"iat": ago(2 * time.Minute), "exp": ago(20 * time.Second)})
		}, Want: loggedOut()},
		LogoutCase{Name: "nbf in the future", Token: logoutToken(bearertest.Payload{"nbf": time.Now().Add(5 * time.Minute)}), Want: badLogout("token not yet valid")},
		LogoutCase{Name: "replayed", Token: logoutToken(bearertest.Payload{"sid": "replayed"}), Twice: true, Want: badLogout("logout token replayed")},
		LogoutCase{Name: "signature of another token", Token: otherSignature, Want: badLogout("signature invalid")},
		LogoutCase{Name: "unknown kid", Token: logoutHeaded("RS256", map[string]any{"kid": "no-such-key"}, nil), Want: badLogout("no matching signing key")},
		LogoutCase{Name: "authority unreachable", Token: logoutToken(nil), Down: true,
			Want: with(logoutRefused(http.StatusServiceUnavailable, "temporarily_unavailable", "authority unavailable"), "Retry-After", "1")},
	)
	add("RFC 8725 §3.1",
		// It claims to be unsigned but carries a signature: an empty one is
		// not even shaped like a JWS.
		LogoutCase{Name: "alg none", Token: logoutHeaded("RS256", map[string]any{"alg": "none"}, nil), Want: badLogout("algorithm not allowed")},
		LogoutCase{Name: "alg HS256", Token: hs256, Want: badLogout("algorithm not allowed")},
	)
	add("RFC 7515 §4.1.3",
		LogoutCase{Name: "jwk in the header", Token: logoutHeaded("RS256", map[string]any{"jwk": map[string]any{"kty": "oct", "k": "AAAA"}}, nil), Want: badLogout("forbidden header parameter")},
		LogoutCase{Name: "crit in the header", Token: logoutHeaded("RS256", map[string]any{"crit": []string{"exp"}}, nil), Want: badLogout("forbidden header parameter")},
	)
	add("RFC 7519 §4",
		LogoutCase{Name: "member named twice", Token: rawLogout(logoutHeader,
			`{"iss":"{iss}","aud":"api","sub":"alice","sid":"a","sid":"b","jti":"{jti}","iat":{iat},"exp":{exp},`+logoutEvents+`}`), Want: badLogout("malformed token")},
		LogoutCase{Name: "member in another case", Token: rawLogout(logoutHeader,
			`{"iss":"{iss}","aud":"api","sub":"alice","SID":"a","jti":"{jti}","iat":{iat},"exp":{exp},`+logoutEvents+`}`), Want: badLogout("malformed token")},
		LogoutCase{Name: "not a JWS", Token: func(*bearertest.Authority) string { return "2YotnFZFEjr1zCsicMWpAA" }, Want: badLogout("malformed token")},
		LogoutCase{Name: "too large", Token: func(*bearertest.Authority) string { return strings.Repeat("a", maxTokenSize+1) }, Want: badLogout("token too large")},
	)
	add("OIDC Back-Channel Logout 1.0 §2.5",
		LogoutCase{Name: "GET", Method: http.MethodGet, Token: logoutToken(nil), Want: with(logoutRefused(http.StatusMethodNotAllowed, "invalid_request", "logout requests are POST"), "Allow", "POST")},
		LogoutCase{Name: "JSON body", ContentType: "application/json", Body: `{"logout_token":"{token}"}`, Token: logoutToken(nil), Want: badLogout("logout request malformed")},
		LogoutCase{Name: "no logout_token", Body: "token={token}", Token: logoutToken(nil), Want: badLogout("logout_token missing")},
		LogoutCase{Name: "empty logout_token", Body: "logout_token=", Want: badLogout("logout_token missing")},
		LogoutCase{Name: "logout_token twice", Body: "logout_token={token}&logout_token={token}", Token: logoutToken(nil), Want: badLogout("logout request malformed")},
		LogoutCase{Name: "body over the limit", Body: "logout_token={token}&pad=" + strings.Repeat("a", 2*maxTokenSize), Token: logoutToken(nil), Want: badLogout("logout request malformed")},
	)
	return cases
}

// revokeConformanceSession revokes the session of the "revoked session"
// case in v.
func revokeConformanceSession(t testing.TB, v *bearer.Validator) {
	t.Helper()
	if err := v.Revoke(context.Background(), bearer.Revocation{SessionID: revokedSession}); err != nil {
		t.Fatal(err)
	}
}

// revokedSession is the sid Env.OK has revoked.
const revokedSession = "conformance-revoked-session"
