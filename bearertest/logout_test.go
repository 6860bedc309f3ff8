package bearertest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

func TestLogoutTokenDefaults(t *testing.T) {
	a := bearertest.New(t)
	before := time.Now().Unix()
	token := a.LogoutToken(nil)
	h, c := segment(t, token, 0), segment(t, token, 1)
	if len(h) != 3 || h["alg"] != "RS256" || h["typ"] != "logout+jwt" || h["kid"] != a.KeyID("RS256") {
		t.Errorf("header %v", h)
	}
	if err := verify("RS256", token, a.PublicKey("RS256")); err != nil {
		t.Error(err)
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	events, _ := c["events"].(map[string]any)
	event, isObject := events[bearertest.BackchannelLogoutEvent].(map[string]any)
	if c["iss"] != a.Issuer() || c["aud"] != bearertest.DefaultClientID || c["sub"] != "alice" || c["jti"] == "" ||
		int64(iat) < before || exp != iat+120 || len(events) != 1 || !isObject || len(event) != 0 || len(c) != 7 {
		t.Errorf("claims %v", c)
	}
	if c2 := segment(t, a.LogoutToken(nil), 1); c2["jti"] == c["jti"] {
		t.Error("jti repeated")
	}

	// The audience follows SetClient; claims are added, changed, removed.
	a.SetClient("orders-api", "s3cret")
	c = segment(t, a.LogoutTokenWith("ES256", map[string]any{"typ": nil}, bearertest.Payload{"sid": "s-1", "sub": nil, "events": nil}), 1)
	if c["aud"] != "orders-api" || c["sid"] != "s-1" || c["sub"] != nil || c["events"] != nil {
		t.Errorf("claims %v", c)
	}
}

func TestPostLogout(t *testing.T) {
	a := bearertest.New(t)
	var got struct {
		method, contentType, token string
		form                       int
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got.method, got.contentType, got.token, got.form = r.Method, r.Header.Get("Content-Type"), r.PostForm.Get("logout_token"), len(r.PostForm)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	token := a.LogoutToken(nil)
	resp, err := a.PostLogout(srv.URL, token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || got.method != http.MethodPost || got.contentType != "application/x-www-form-urlencoded" || got.token != token || got.form != 1 {
		t.Errorf("status %d, request %+v", resp.StatusCode, got)
	}
}
