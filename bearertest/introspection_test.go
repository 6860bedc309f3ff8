package bearertest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/golang-jwt/jwt/v5"
)

// basic authenticates as RFC 6749 §2.3.1 says: each value form-urlencoded,
// then Basic.
func basic(id, secret string) func(*http.Request, url.Values) {
	return func(r *http.Request, _ url.Values) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

func post(id, secret string) func(*http.Request, url.Values) {
	return func(_ *http.Request, f url.Values) { f.Set("client_id", id); f.Set("client_secret", secret) }
}

var defaultClient = basic(bearertest.DefaultClientID, bearertest.DefaultClientSecret)

// introspect posts token to a's introspection endpoint and returns the
// status and, for 200, the decoded JSON body.
func introspect(t *testing.T, a *bearertest.Authority, token string, auth func(*http.Request, url.Values)) (int, map[string]any) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequest(http.MethodPost, a.IntrospectionURL(), nil)
	if auth != nil {
		auth(req, form)
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
	}
	return resp.StatusCode, m
}

func active(t *testing.T, a *bearertest.Authority, token string) bool {
	t.Helper()
	code, m := introspect(t, a, token, defaultClient)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if m["active"] == false && len(m) != 1 {
		t.Errorf("inactive response says more: %v", m)
	}
	return m["active"] == true
}

func TestIntrospectionURL(t *testing.T) {
	a := bearertest.New(t, bearertest.WithPath("/t1"))
	if a.IntrospectionURL() != a.Issuer()+"/introspect" || getJSON(t, a.Issuer()+"/.well-known/openid-configuration")["introspection_endpoint"] != a.IntrospectionURL() {
		t.Errorf("IntrospectionURL %q", a.IntrospectionURL())
	}
}

func TestReferenceToken(t *testing.T) {
	a := bearertest.New(t)
	tok := a.ReferenceToken(bearertest.Payload{"scope": "api", "aud": []string{"api"}, "jti": nil, "exp": time.Unix(4102444800, 0)})
	if strings.Contains(tok, ".") || len(tok) < 32 {
		t.Errorf("reference token %q looks like a JWT or is short", tok)
	}
	if a.ReferenceToken(nil) == tok {
		t.Error("reference tokens repeat")
	}
	code, m := introspect(t, a, tok, defaultClient)
	if code != http.StatusOK || m["active"] != true || m["iss"] != a.Issuer() || m["sub"] != "alice" ||
		m["client_id"] != "client" || m["scope"] != "api" || m["exp"] != float64(4102444800) || m["iat"] == nil {
		t.Errorf("%d %v", code, m)
	}
	if _, ok := m["jti"]; ok {
		t.Error("jti not removed")
	}
}

func TestReferenceTokenInactive(t *testing.T) {
	a := bearertest.New(t)
	revoked := a.ReferenceToken(nil)
	a.Revoke(revoked)
	for name, tok := range map[string]string{
		"unknown":    "nope",
		"revoked":    revoked,
		"expired":    a.ReferenceToken(bearertest.Payload{"exp": time.Now().Add(-time.Second)}),
		"not yet":    a.ReferenceToken(bearertest.Payload{"nbf": time.Now().Add(time.Hour)}),
		"exp string": a.ReferenceToken(bearertest.Payload{"exp": "tomorrow"}),
	} {
		if active(t, a, tok) {
			t.Errorf("%s: active", name)
		}
	}
	if !active(t, a, a.ReferenceToken(bearertest.Payload{"exp": nil})) {
		t.Error("a token without exp is inactive")
	}
}

func TestIntrospectJWT(t *testing.T) {
	a := bearertest.New(t)
	tok := a.TokenWith("ES256", nil, bearertest.Payload{"aud": "api"})
	code, m := introspect(t, a, tok, defaultClient)
	if code != http.StatusOK || m["active"] != true || m["aud"] != "api" || m["sub"] != "alice" {
		t.Errorf("%d %v", code, m)
	}
	if !active(t, a, a.TokenWith("HS256", nil, nil)) {
		t.Error("HS256 token signed with the shared secret: not active")
	}
	parts := strings.Split(tok, ".")
	old := a.Token(nil)
	a.RotateKey("RS256")
	revoked := a.Token(nil)
	a.Revoke(revoked)
	for name, bad := range map[string]string{
		"tampered":    parts[0] + "." + parts[1] + "x." + parts[2],
		"expired":     a.Token(bearertest.Payload{"exp": time.Now().Add(-time.Minute)}),
		"unsigned":    a.TokenWith("none", nil, nil),
		"rotated out": old,
		"revoked":     revoked,
		"garbage":     "a.b.c",
	} {
		if active(t, a, bad) {
			t.Errorf("%s: active", name)
		}
	}
}

func TestIntrospectionClientAuthentication(t *testing.T) {
	a := bearertest.New(t)
	tok := a.ReferenceToken(nil)
	id, secret := "api:v2 %41+é", "s3:cr%t +="
	a.SetClient(id, secret)
	for name, auth := range map[string]func(*http.Request, url.Values){
		"basic": basic(id, secret),
		"post":  post(id, secret),
	} {
		if code, m := introspect(t, a, tok, auth); code != http.StatusOK || m["active"] != true {
			t.Errorf("%s: %d %v", name, code, m)
		}
	}
	for name, auth := range map[string]func(*http.Request, url.Values){
		"none":                  nil,
		"default client":        defaultClient,
		"wrong secret":          basic(id, "wrong"),
		"basic not url-encoded": func(r *http.Request, _ url.Values) { r.SetBasicAuth(id, secret) },
		"post wrong secret":     post(id, "wrong"),
		"two methods": func(r *http.Request, f url.Values) {
			basic(id, secret)(r, f)
			post(id, secret)(r, f)
		},
		"assertion without key": func(_ *http.Request, f url.Values) {
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			f.Set("client_assertion", "x.y.z")
		},
	} {
		code, _ := introspect(t, a, tok, auth)
		if code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
}

func TestIntrospectionUnauthorizedResponse(t *testing.T) {
	a := bearertest.New(t)
	resp, err := http.PostForm(a.IntrospectionURL(), url.Values{"token": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") || !strings.Contains(string(body), `"invalid_client"`) {
		t.Errorf("%d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
}

func TestIntrospectionPrivateKeyJWT(t *testing.T) {
	a := bearertest.New(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a.SetClientKey(key.Public())
	tok := a.ReferenceToken(nil)
	assertion := func(edit func(jwt.MapClaims)) func(*http.Request, url.Values) {
		c := jwt.MapClaims{"iss": "api", "sub": "api", "aud": a.Issuer(), "exp": time.Now().Add(time.Minute).Unix(), "jti": "1"}
		if edit != nil {
			edit(c)
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return func(_ *http.Request, f url.Values) {
			f.Set("client_id", "api")
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			f.Set("client_assertion", s)
		}
	}
	for name, edit := range map[string]func(jwt.MapClaims){
		"issuer":              nil,
		"introspection URL":   func(c jwt.MapClaims) { c["aud"] = a.IntrospectionURL() },
		"token endpoint list": func(c jwt.MapClaims) { c["aud"] = []string{"x", a.Issuer() + "/token"} },
	} {
		if code, m := introspect(t, a, tok, assertion(edit)); code != http.StatusOK || m["active"] != true {
			t.Errorf("aud %s: %d %v", name, code, m)
		}
	}
	for name, edit := range map[string]func(jwt.MapClaims){
		"other aud":  func(c jwt.MapClaims) { c["aud"] = "https://elsewhere.example" },
		"other iss":  func(c jwt.MapClaims) { c["iss"] = "web" },
		"other sub":  func(c jwt.MapClaims) { c["sub"] = "web" },
		"expired":    func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() },
		"no exp":     func(c jwt.MapClaims) { delete(c, "exp") },
		"no aud":     func(c jwt.MapClaims) { delete(c, "aud") },
		"wrong type": nil,
	} {
		auth := assertion(edit)
		if name == "wrong type" {
			auth = func(r *http.Request, f url.Values) {
				assertion(nil)(r, f)
				f.Set("client_assertion_type", "password")
			}
		}
		if code, _ := introspect(t, a, tok, auth); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a.SetClientKey(other.Public())
	if code, _ := introspect(t, a, tok, assertion(nil)); code != http.StatusUnauthorized {
		t.Errorf("other key: %d", code)
	}
}

func TestIntrospectionBadRequests(t *testing.T) {
	a := bearertest.New(t)
	if code := status(t, a.IntrospectionURL()); code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", code)
	}
	if code, _ := introspect(t, a, "", defaultClient); code != http.StatusBadRequest {
		t.Errorf("no token: %d", code)
	}
	req, _ := http.NewRequest(http.MethodPost, a.IntrospectionURL(), strings.NewReader(`{"token":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	defaultClient(req, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("JSON body: %d", resp.StatusCode)
	}
}

func TestIntrospectionJWTResponse(t *testing.T) {
	a := bearertest.New(t)
	tok := a.ReferenceToken(bearertest.Payload{"scope": "api"})
	req, _ := http.NewRequest(http.MethodPost, a.IntrospectionURL(), strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/token-introspection+jwt")
	defaultClient(req, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/token-introspection+jwt" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := verify("RS256", string(body), a.PublicKey("RS256")); err != nil {
		t.Fatal(err)
	}
	h, p := segment(t, string(body), 0), segment(t, string(body), 1)
	ti, _ := p["token_introspection"].(map[string]any)
	if h["typ"] != "token-introspection+jwt" || h["kid"] != a.KeyID("RS256") || p["iss"] != a.Issuer() ||
		p["aud"] != bearertest.DefaultClientID || p["iat"] == nil || ti["active"] != true || ti["scope"] != "api" {
		t.Errorf("header %v payload %v", h, p)
	}
}

func TestIntrospectionHitsAndFaults(t *testing.T) {
	a := bearertest.New(t)
	tok := a.ReferenceToken(nil)
	active(t, a, tok)
	a.SetStatus(bearertest.Introspection, 500)
	if code, _ := introspect(t, a, tok, defaultClient); code != 500 {
		t.Errorf("fault: %d", code)
	}
	a.SetStatus(bearertest.Introspection, 0)
	a.SetBody(bearertest.Introspection, []byte(`{"active":true,"sub":"forced"}`))
	if _, m := introspect(t, a, "anything", nil); m["sub"] != "forced" {
		t.Errorf("body fault: %v", m)
	}
	if n := a.Hits(bearertest.Introspection); n != 3 {
		t.Errorf("%d hits", n)
	}
}

func TestSetClientKeyNil(t *testing.T) {
	a := bearertest.New(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a.SetClientKey(key.Public())
	a.SetClientKey(nil)
	s, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "api", "sub": "api", "aud": a.Issuer(), "exp": time.Now().Add(time.Minute).Unix()}).SignedString(key)
	code, _ := introspect(t, a, "x", func(_ *http.Request, f url.Values) {
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", s)
	})
	if code != http.StatusUnauthorized {
		t.Errorf("%d", code)
	}
}

// Reference tokens are opaque: only the introspection endpoint can say
// what they stand for.
func ExampleAuthority_ReferenceToken() {
	a := bearertest.NewAuthority()
	defer a.Close()

	token := a.ReferenceToken(bearertest.Payload{"sub": "bob", "scope": "api"})
	ask := func() string {
		req, _ := http.NewRequest(http.MethodPost, a.IntrospectionURL(), strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(bearertest.DefaultClientID, bearertest.DefaultClientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return fmt.Sprint(m["active"], " ", m["sub"])
	}
	fmt.Println(ask())
	a.Revoke(token)
	fmt.Println(ask())
	// Output:
	// true bob
	// false <nil>
}
