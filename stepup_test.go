package bearer_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// The claims a step-up requirement reads come from a JWT and from an
// introspection answer alike; wrong types count as absent and do not
// refuse the token.
func TestStepUpClaims(t *testing.T) {
	a := bearertest.New(t)
	a.SetClient("api", "secret")
	signedIn := time.Now().Add(-time.Minute).Truncate(time.Second)
	extra := bearertest.Payload{"acr": "urn:example:mfa", "auth_time": signedIn, "amr": []string{"pwd", "otp"}}
	jwt := newValidator(t, a, bearer.Config{Mode: bearer.ModeJWT})
	introspected := newValidator(t, a, bearer.Config{ClientID: "api", ClientSecret: "secret"})
	for name, c := range map[string]*bearer.Claims{
		"jwt":           mustValid(t, jwt, a.Token(claims(extra))),
		"introspection": mustValid(t, introspected, a.ReferenceToken(claims(extra))),
	} {
		if c.ACR != "urn:example:mfa" || !c.AuthTime.Equal(signedIn) || !slices.Equal(c.AMR(), []string{"pwd", "otp"}) {
			t.Errorf("%s: ACR %q AuthTime %v AMR %q", name, c.ACR, c.AuthTime, c.AMR())
		}
	}

	odd := bearertest.Payload{"acr": 2, "auth_time": "yesterday", "amr": "pwd"}
	c := mustValid(t, jwt, a.Token(claims(odd)))
	if c.ACR != "" || !c.AuthTime.IsZero() || c.AMR() != nil {
		t.Errorf("wrong types: ACR %q AuthTime %v AMR %q, want all absent", c.ACR, c.AuthTime, c.AMR())
	}
	if err := bearer.ACR("2").Check(c); !errors.Is(err, bearer.ErrInsufficientUserAuthentication) {
		t.Errorf("acr 2 (a number) met ACR(\"2\"): %v", err)
	}

	// A handler's change to AMR's result changes nothing for the next
	// request with the token.
	token := a.Token(claims(extra))
	mustValid(t, jwt, token).AMR()[0] = "changed"
	if got := mustValid(t, jwt, token).AMR(); got[0] != "pwd" {
		t.Errorf("AMR after a change: %q", got)
	}
	if (&bearer.Claims{}).AMR() != nil {
		t.Error("AMR of hand-made claims is not nil")
	}
}

func TestStepUpCheck(t *testing.T) {
	now := time.Now()
	mfa := &bearer.Claims{ACR: "urn:example:mfa", AuthTime: now.Add(-time.Hour), Scopes: []string{"read"}}
	tests := []struct {
		name string
		r    bearer.Requirement
		c    *bearer.Claims
		want string // Error(), or "" for nil
	}{
		{"acr met", bearer.ACR("urn:example:pwd urn:example:mfa"), mfa, ""},
		{"acr unmet", bearer.ACR("urn:example:hwk"), mfa, "bearer: insufficient user authentication: a different authentication level is required: want acr urn:example:hwk"},
		{"too old", bearer.MaxAge(10 * time.Minute), mfa, "bearer: insufficient user authentication: more recent authentication is required: want max_age 600"},
		{"recent enough", bearer.MaxAge(2 * time.Hour), mfa, ""},
		{"sub-second max age is a second", bearer.MaxAge(time.Millisecond), &bearer.Claims{AuthTime: now}, ""},
		{"no claims", bearer.ACR("x"), nil, "bearer: insufficient user authentication: a different authentication level is required: want acr x"},
		{"both, scope first", bearer.AllOf(bearer.AllOf("pay"), bearer.ACR("urn:example:hwk")), mfa,
			"bearer: insufficient user authentication: a different authentication level is required: want pay, acr urn:example:hwk"},
		{"scope alone", bearer.AllOf(bearer.AllOf("pay"), bearer.ACR("urn:example:mfa")), mfa, "bearer: insufficient scope: want pay"},
		{"two max ages: the least named", bearer.AllOf(bearer.MaxAge(time.Minute), bearer.MaxAge(30*time.Minute)), mfa,
			"bearer: insufficient user authentication: more recent authentication is required: want max_age 60"},
		{"any of two acr: both named", bearer.AnyOf(bearer.ACR("a"), bearer.ACR("b")), mfa,
			"bearer: insufficient user authentication: a different authentication level is required: want acr a b"},
		{"zero parts ignored", bearer.AllOf(bearer.Requirement{}, bearer.ACR("urn:example:mfa")), mfa, ""},
	}
	for _, tt := range tests {
		err := tt.r.Check(tt.c)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if !bearer.AnyOf[bearer.Requirement]().IsZero() || !bearer.ACR().IsZero() || bearer.MaxAge(time.Minute).IsZero() {
		t.Error("IsZero")
	}
	if s := bearer.AllOf(bearer.AnyOf("a", "b"), bearer.ACR("x"), bearer.MaxAge(5*time.Minute)).String(); s != "all(a b; acr x; max_age 300)" {
		t.Errorf("String %q", s)
	}
}

// The refusal renders as RFC 9470 §3 shows it, with WriteError's body.
func TestStepUpRendering(t *testing.T) {
	err := bearer.AllOf(bearer.ACR("urn:example:mfa"), bearer.MaxAge(5*time.Minute)).Check(&bearer.Claims{ACR: "urn:example:mfa"})
	rec := httptest.NewRecorder()
	bearer.WriteError(rec, "", err)
	want := `Bearer error="insufficient_user_authentication", error_description="more recent authentication is required", acr_values="urn:example:mfa", max_age="300"`
	if got := rec.Header().Get("WWW-Authenticate"); rec.Code != 401 || got != want {
		t.Errorf("%d %s\nwant %s", rec.Code, got, want)
	}
	if got := strings.TrimSpace(rec.Body.String()); got != `{"error":"insufficient_user_authentication","error_description":"more recent authentication is required","acr_values":"urn:example:mfa","max_age":300}` {
		t.Errorf("body %s", got)
	}
	e := bearer.NewError(bearer.ErrInsufficientUserAuthentication, "")
	if e.Status != 401 || e.Code != "insufficient_user_authentication" || !errors.Is(e, bearer.ErrInsufficientUserAuthentication) || errors.Is(e, bearer.ErrInvalidToken) {
		t.Errorf("NewError: %+v", e)
	}
}

// Config.RequiredScopes may hold step-up, but without Audience it must
// still keep out tokens for other APIs, and its acr values must be
// writable in a challenge.
func TestStepUpConfig(t *testing.T) {
	a := bearertest.New(t)
	for _, r := range []bearer.Requirement{
		bearer.ACR("urn:example:mfa"),
		bearer.AnyOf(bearer.AllOf("api"), bearer.ACR("urn:example:mfa")),
		bearer.MaxAge(time.Minute),
	} {
		if _, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), RequiredScopes: r}); err == nil {
			t.Errorf("New accepted RequiredScopes %v without Audience", r)
		}
	}
	for _, r := range []bearer.Requirement{
		bearer.ACR(`urn:"mfa"`),
		bearer.ACRAtLeast("gold", []string{"bronze", "silver"}),
		bearer.AllOf(bearer.AllOf("api"), bearer.ACR("a\\b")),
	} {
		if _, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, RequiredScopes: r}); err == nil {
			t.Errorf("New accepted RequiredScopes %v", r)
		}
	}
	v := newValidator(t, a, bearer.Config{RequiredScopes: bearer.AllOf(bearer.AllOf("api"), bearer.ACR("urn:example:mfa"))})
	mustValid(t, v, a.Token(claims(bearertest.Payload{"acr": "urn:example:mfa"})))
	e := mustFail(t, v, a.Token(claims(bearertest.Payload{"acr": "urn:example:pwd"})), bearer.ErrInsufficientUserAuthentication, nil)
	if e.ACRValues != "urn:example:mfa" || e.Scope != "" {
		t.Errorf("%+v", e)
	}
}
