package conformance

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
)

// RunHTTP runs every case against the router build returns, each over a
// real loopback connection, and checks status, CheckedHeaders and body.
func RunHTTP(t *testing.T, build Build) {
	t.Helper()
	runHTTP(t, NewEnv(t), Cases(), build)
}

// RunHTTPSeveral runs the cases of the Standard setup as RunHTTP does,
// against a Validator of several authorities (NewMulti) that holds
// Env.Authority alone, configured as Standard's: one authority or
// several, the same code judges a token, and the same answer comes back.
func RunHTTPSeveral(t *testing.T, build Build) {
	t.Helper()
	env := NewEnv(t)
	several, err := bearer.NewMulti(context.Background(), bearer.MultiConfig{Logger: env.logger, Authorities: []bearer.Config{
		{Authority: env.Authority.Issuer(), Audience: []string{"api"}, Mode: bearer.ModeJWT, Logger: env.logger},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { several.Close() })
	ready(t, several)
	if err := several.Revoke(context.Background(), bearer.Revocation{Issuer: env.Authority.Issuer(), SessionID: revokedSession}); err != nil {
		t.Fatal(err)
	}
	env.OK = several
	var cases []Case
	for _, c := range Cases() {
		if c.Setup == Standard {
			cases = append(cases, c)
		}
	}
	runHTTP(t, env, cases, build)
}

func runHTTP(t *testing.T, env *Env, cases []Case, build Build) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Logf("%s (%s)", c.Name, c.Ref)
			t.Parallel()
			v := env.Validator(c)
			srv := httptest.NewServer(build(v, c.Guard))
			defer srv.Close()
			token := env.Token(c)
			req := c.Request(srv.URL, token)
			c.addProof(req, v, token)
			if c.Replay {
				first := c.Request(srv.URL, token)
				first.Header["Dpop"] = req.Header["Dpop"]
				if resp, err := srv.Client().Do(first); err == nil {
					resp.Body.Close()
				}
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			want := c.Want
			want.Body = strings.ReplaceAll(want.Body, "{issuer}", env.Authority.Issuer())
			CheckResponse(t, resp, body, want)
		})
	}
}

// Request returns the HTTP request of c for the server at base.
func (c Case) Request(base, token string) *http.Request {
	h := c.HTTP
	if h == nil {
		h = &HTTP{}
	}
	method := h.Method
	if method == "" {
		method = http.MethodGet
		if h.Form != "" {
			method = http.MethodPost
		}
	}
	url := base + c.Path()
	if h.Query != "" {
		url += "?" + Fill(h.Query, token)
	}
	var body io.Reader
	if h.Form != "" {
		body = strings.NewReader(Fill(h.Form, token))
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		panic(err)
	}
	if h.Form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for name, values := range h.Header {
		req.Header[name] = values
	}
	for _, v := range c.AuthorizationValues(token) {
		req.Header.Add("Authorization", v)
	}
	if h.Cookie != "" {
		req.Header.Set("Cookie", Fill(h.Cookie, token))
	}
	return req
}

// addProof adds the DPoP field of c's Proof to req.
func (c Case) addProof(req *http.Request, v *bearer.Validator, token string) {
	if c.Proof == nil {
		return
	}
	u := *req.URL
	u.RawQuery = ""
	for _, p := range c.Proof(v, req.Method, u.String(), token) {
		req.Header.Add("DPoP", p)
	}
}

// CheckResponse compares a response with want.
func CheckResponse(t testing.TB, resp *http.Response, body []byte, want Want) {
	t.Helper()
	if resp.StatusCode != want.Status {
		t.Errorf("status %d, want %d (body %q)", resp.StatusCode, want.Status, body)
	}
	for _, name := range CheckedHeaders {
		got := strings.Join(resp.Header.Values(name), ", ")
		if want.Header[name] == AnyValue && got != "" {
			continue
		}
		if got != want.Header[name] {
			t.Errorf("%s: %q, want %q", name, got, want.Header[name])
		}
	}
	if string(body) != want.Body {
		t.Errorf("body %q, want %q", body, want.Body)
	}
}
