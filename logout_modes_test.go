package bearer_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestLogoutJWTOnlyNeedsNoSecret: an API that introspects nothing (ModeJWT)
// names itself to LogoutHandler with ClientID alone; New does not ask for
// a secret it would never use. In ModeAuto a ClientID still turns
// introspection on, and New says how to do without it.
func TestLogoutJWTOnlyNeedsNoSecret(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Mode: bearer.ModeJWT, ClientID: bearertest.DefaultClientID})
	url := logoutURL(t, v)
	token := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	mustValid(t, v, token)
	mustLogout(t, a, url, a.LogoutToken(bearertest.Payload{"sid": "s-1"}))
	mustFail(t, v, token, bearer.ErrInvalidToken, bearer.ErrRevoked)
	if n := a.Hits(bearertest.Introspection); n != 0 {
		t.Errorf("%d introspection calls", n)
	}

	_, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, ClientID: bearertest.DefaultClientID})
	if err == nil || !strings.Contains(err.Error(), "ClientSecret is required") || !strings.Contains(err.Error(), "ModeJWT") {
		t.Errorf("ModeAuto with a ClientID and no secret: %v", err)
	}
	keyless, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Mode: bearer.ModeJWT, ClientID: "api", ClientAuth: bearer.PrivateKeyJWT})
	if err != nil {
		t.Fatalf("ModeJWT with PrivateKeyJWT and no key: %v", err)
	}
	keyless.Close()
}

// TestLogoutModeIntrospection: an API that introspects every token, with
// unsigned answers, needs the authority's keys only for logout tokens. It
// fetches none to become ready, and the first logout token fetches them:
// it is accepted, and revokes the introspected tokens of its session.
func TestLogoutModeIntrospection(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, logoutConfig(bearer.Config{Mode: bearer.ModeIntrospection}))
	if n := a.Hits(bearertest.JWKS); n != 0 {
		t.Errorf("%d JWKS fetches before any logout token", n)
	}
	url := logoutURL(t, v)
	token := a.ReferenceToken(claims(bearertest.Payload{"sid": "s-1"}))
	jwt := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	mustValid(t, v, token)
	mustValid(t, v, jwt)

	mustLogout(t, a, url, a.LogoutToken(bearertest.Payload{"sid": "s-1"}))
	mustFail(t, v, token, bearer.ErrInvalidToken, bearer.ErrRevoked)
	mustFail(t, v, jwt, bearer.ErrInvalidToken, bearer.ErrRevoked)
	if n := a.Hits(bearertest.JWKS); n != 1 {
		t.Errorf("%d JWKS fetches for the first logout token, want 1", n)
	}
	// The keys are kept: the next logout token costs no fetch.
	mustLogout(t, a, url, a.LogoutToken(bearertest.Payload{"sid": "s-2"}))
	if n := a.Hits(bearertest.JWKS); n != 1 {
		t.Errorf("%d JWKS fetches after a second logout token, want 1", n)
	}
	// A logout token the keys do not verify is still refused.
	forged := a.LogoutToken(bearertest.Payload{"sid": "s-3"})
	forged = forged[:strings.LastIndexByte(forged, '.')+1] + "AAAA"
	if status, body := postLogout(t, a, url, forged); status != http.StatusBadRequest {
		t.Errorf("forged logout token: %d %s", status, body)
	}
}
