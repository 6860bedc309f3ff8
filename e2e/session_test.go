//go:build unix

package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The SPA's client at examples/authority, whose place the tests below take
// in a sign-in session: the authorization code flow with PKCE, driven over
// HTTP as the browser test drives it in Chromium.
const (
	spaClient   = "spa"
	spaRedirect = "http://127.0.0.1:8080/callback.html" // the authority's default SPA_URL
)

// userSession is a user signed in at the authority: the cookies of its
// session.
type userSession struct {
	a      *authority
	client *http.Client
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	formPrompt = regexp.MustCompile(`name="prompt" value="([a-z]+)"`)
	formXSRF   = regexp.MustCompile(`name="xsrf" value="([^"]+)"`)
)

// signIn signs login in through the development login and consent forms
// and returns the session and an access token for resource.
func (a *authority) signIn(t testing.TB, login, resource string) (*userSession, string) {
	t.Helper()
	return a.signInWith(t, login, resource, nil)
}

// signInWith is signIn with more parameters in the authorization request
// (acr_values, max_age, prompt, …).
func (a *authority) signInWith(t testing.TB, login, resource string, params url.Values) (*userSession, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &userSession{a: a, client: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), spaRedirect) {
			return http.ErrUseLastResponse // the code is for us, not for the SPA
		}
		return nil
	}}}
	verifier := rand.Text() + rand.Text()
	challenge := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {spaClient}, "response_type": {"code"}, "redirect_uri": {spaRedirect},
		"scope": {"openid api"}, "resource": {resource}, "state": {rand.Text()},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}
	for name, values := range params {
		q[name] = values
	}
	resp := s.do(t, http.MethodGet, a.Issuer+"/auth?"+q.Encode(), nil)
	// The login form, then the consent form, then the redirect with the code.
	for range 3 {
		if resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound {
			break
		}
		page := readPage(t, resp)
		action, prompt := formAction.FindStringSubmatch(page), formPrompt.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || action == nil || prompt == nil {
			t.Fatalf("sign-in: %d, no interaction form: %.500s", resp.StatusCode, page)
		}
		form := url.Values{"prompt": {prompt[1]}}
		if prompt[1] == "login" {
			form.Set("login", login)
			form.Set("password", "any password")
		}
		resp = s.do(t, http.MethodPost, resolve(a.Issuer, html.UnescapeString(action[1])), form)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in: %d, no code in %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	resp = s.do(t, http.MethodPost, a.Issuer+"/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {spaRedirect},
		"client_id": {spaClient}, "code_verifier": {verifier}, "resource": {resource},
	})
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v %s %s", resp.StatusCode, err, tok.Error, tok.Description)
	}
	return s, tok.AccessToken
}

// signOut ends the session at the authority's end_session endpoint,
// confirming on its form as a user does; the authority posts its logout
// tokens before it answers.
func (s *userSession) signOut(t testing.TB) {
	t.Helper()
	page := readPage(t, s.do(t, http.MethodGet, s.a.Issuer+"/session/end", nil))
	action, xsrf := formAction.FindStringSubmatch(page), formXSRF.FindStringSubmatch(page)
	if action == nil || xsrf == nil {
		t.Fatalf("sign-out: no confirmation form: %.500s", page)
	}
	resp := s.do(t, http.MethodPost, resolve(s.a.Issuer, html.UnescapeString(action[1])), url.Values{"xsrf": {xsrf[1]}, "logout": {"yes"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
}

func (s *userSession) do(t testing.TB, method, u string, form url.Values) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return resp
}

func readPage(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func resolve(base, ref string) string {
	b, _ := url.Parse(base)
	r, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return r.String()
}

// jwtClaims returns the payload of a JWT, read without verifying it: for
// a test that checks what the authority put in a token.
func jwtClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatal(errors.New("not a JWT"))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
