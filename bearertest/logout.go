package bearertest

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// BackchannelLogoutEvent is the member of a logout token's events claim
// that makes it one (OpenID Connect Back-Channel Logout 1.0 §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutToken mints a back-channel logout token (OpenID Connect
// Back-Channel Logout 1.0 §2.4), RS256 with the header
// {"alg":"RS256","typ":"logout+jwt","kid":<current RS256 kid>}, as an
// authority posts it to a client's backchannel_logout_uri when a user
// signs out.
//
// The payload has these defaults, each overridden by the same key in c, or
// removed when c maps it to nil: iss=Issuer(), aud=the client SetClient
// names (DefaultClientID unless changed), sub="alice", iat=now,
// exp=now+2min, a random jti and events={BackchannelLogoutEvent: {}}. There
// is no sid unless c adds one. Broken tokens are one override away: nil
// for events or jti, a nonce, an iat an hour ahead, …
func (a *Authority) LogoutToken(c Payload) string {
	return a.LogoutTokenWith("RS256", nil, c)
}

// LogoutTokenWith mints a logout token like LogoutToken, signed with the
// current key for alg, with header merged over the default header (a nil
// value removes a member), as TokenWith does for access tokens.
func (a *Authority) LogoutTokenWith(alg string, header map[string]any, c Payload) string {
	id, _, _ := a.intro.client()
	now := time.Now()
	p := map[string]any{
		"iss":    a.issuer,
		"aud":    id,
		"sub":    "alice",
		"iat":    now.Unix(),
		"exp":    now.Add(2 * time.Minute).Unix(),
		"jti":    rand.Text(),
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	merge(p, c)
	return a.mint(alg, map[string]any{"typ": "logout+jwt"}, header, p)
}

// PostLogout posts logoutToken to uri as an authority does on a
// back-channel logout: a form with the one parameter logout_token. The
// caller closes the response's body. A client's endpoint answers 200 (or
// 204) when it signed the user out.
func (a *Authority) PostLogout(uri, logoutToken string) (*http.Response, error) {
	body := url.Values{"logout_token": {logoutToken}}.Encode()
	req, err := http.NewRequest(http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return http.DefaultClient.Do(req)
}
