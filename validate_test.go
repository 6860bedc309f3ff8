package bearer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

func TestValidateEveryDefaultAlgorithm(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	for _, alg := range bearer.DefaultAlgorithms {
		t.Run(alg, func(t *testing.T) {
			c := mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
			if c.Subject != "alice" || c.Issuer != a.Issuer() {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

func TestClaimsAreTyped(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	exp := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	tok := a.Token(bearertest.Payload{
		"aud": []string{"other", "api"}, "scope": "api read", "scp": []string{"write", "api"},
		"exp": exp, "nbf": time.Now().Add(-time.Minute), "client_id": "spa", "sid": "s1",
		"jti": "j1", "cnf": map[string]any{"kid": "thumb"}, "tenant": "t9",
	})
	c := mustValid(t, v, tok)
	if !c.ExpiresAt.Equal(exp) || c.NotBefore.IsZero() || c.IssuedAt.IsZero() {
		t.Errorf("times: exp %v nbf %v iat %v", c.ExpiresAt, c.NotBefore, c.IssuedAt)
	}
	if strings.Join(c.Audience, ",") != "other,api" {
		t.Errorf("Audience = %v", c.Audience)
	}
	if strings.Join(c.Scopes, " ") != "api read write" {
		t.Errorf("Scopes = %v", c.Scopes)
	}
	if c.ClientID != "spa" || c.SessionID != "s1" || c.ID != "j1" || string(c.Confirmation) != `{"kid":"thumb"}` {
		t.Errorf("claims = %+v", c)
	}
	var ext struct {
		Tenant string `json:"tenant"`
	}
	if err := c.Decode(&ext); err != nil || ext.Tenant != "t9" {
		t.Errorf("Decode = %v, %+v", err, ext)
	}
	if c.Map()["tenant"] != "t9" {
		t.Errorf("Map()[tenant] = %v", c.Map()["tenant"])
	}
	if !c.HasScope("write") || c.HasScope("Write") {
		t.Error("HasScope is not exact")
	}
}

func TestAudience(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Audience: []string{"api", "api2"}})
	mustValid(t, v, a.Token(bearertest.Payload{"aud": "api2"}))
	mustValid(t, v, a.Token(bearertest.Payload{"aud": []string{"x", "api"}}))
	for name, aud := range map[string]any{
		"missing": nil, "other": "web", "case": "API", "empty string": "", "empty array": []string{},
		"number": 1, "object": map[string]any{"api": true},
	} {
		t.Run(name, func(t *testing.T) {
			err := mustFail(t, v, a.Token(bearertest.Payload{"aud": aud}), bearer.ErrInvalidToken, nil)
			if err.Status != 401 || err.Code != "invalid_token" {
				t.Errorf("status %d code %q", err.Status, err.Code)
			}
		})
	}
}

func TestNoAudienceNeedsScopes(t *testing.T) {
	a := bearertest.New(t)
	if _, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer()}); err == nil {
		t.Fatal("New accepted a config with neither Audience nor RequiredScopes")
	}
	v := newValidator(t, a, bearer.Config{RequiredScopes: bearer.AnyOf("api")})
	mustValid(t, v, a.Token(bearertest.Payload{"scope": "api"}))
	mustValid(t, v, a.Token(bearertest.Payload{"scope": "api", "aud": "anything"}))
	mustFail(t, v, a.Token(bearertest.Payload{"scope": "web"}), bearer.ErrInsufficientScope, nil)
}

func TestRequiredScopes(t *testing.T) {
	a := bearertest.New(t)
	any := newValidator(t, a, bearer.Config{RequiredScopes: bearer.AnyOf("api", "api.read")})
	all := newValidator(t, a, bearer.Config{RequiredScopes: bearer.AllOf("api", "api.read")})
	cases := []struct {
		name     string
		scope    bearertest.Payload
		any, all bool
	}{
		{"string both", bearertest.Payload{"scope": "api api.read"}, true, true},
		{"string one", bearertest.Payload{"scope": "openid api.read"}, true, false},
		{"array both", bearertest.Payload{"scope": []string{"api.read", "api"}}, true, true},
		{"scp string", bearertest.Payload{"scp": "api"}, true, false},
		{"scp array", bearertest.Payload{"scp": []string{"api", "api.read"}}, true, true},
		{"scope and scp", bearertest.Payload{"scope": "api", "scp": []string{"api.read"}}, true, true},
		{"substring", bearertest.Payload{"scope": "ap api.rea"}, false, false},
		{"case", bearertest.Payload{"scope": "API Api.Read"}, false, false},
		{"array element with space", bearertest.Payload{"scope": []string{"api api.read"}}, false, false},
		{"none", bearertest.Payload{}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := a.Token(tc.scope)
			for _, x := range []struct {
				v    *bearer.Validator
				want bool
				req  string
			}{{any, tc.any, "any"}, {all, tc.all, "all"}} {
				_, err := x.v.Validate(context.Background(), tok)
				if (err == nil) != x.want {
					t.Errorf("%s-of: err = %v, want ok=%v", x.req, err, x.want)
				}
				if err != nil {
					e := bearer.AsError(err)
					if e.Status != 403 || e.Code != "insufficient_scope" || e.Scope != "api api.read" {
						t.Errorf("%s-of: error %+v", x.req, e)
					}
				}
			}
		})
	}
}

func TestTimes(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Leeway: 30 * time.Second})
	now := time.Now()
	ok := map[string]bearertest.Payload{
		"exp within leeway": {"exp": now.Add(-20 * time.Second)},
		"nbf within leeway": {"nbf": now.Add(20 * time.Second)},
		"iat within leeway": {"iat": now.Add(20 * time.Second)},
		"fractional exp":    {"exp": float64(now.Add(time.Hour).Unix()) + 0.5},
		"no iat":            {"iat": nil},
	}
	for name, c := range ok {
		t.Run(name, func(t *testing.T) { mustValid(t, v, a.Token(claims(c))) })
	}
	bad := map[string]struct {
		c      bearertest.Payload
		reason error
	}{
		"expired":        {bearertest.Payload{"exp": now.Add(-40 * time.Second)}, bearer.ErrExpired},
		"nbf future":     {bearertest.Payload{"nbf": now.Add(40 * time.Second)}, bearer.ErrNotYetValid},
		"iat future":     {bearertest.Payload{"iat": now.Add(40 * time.Second)}, bearer.ErrIssuedInFuture},
		"no exp":         {bearertest.Payload{"exp": nil}, bearer.ErrMalformed},
		"exp string":     {bearertest.Payload{"exp": "2099-01-01"}, bearer.ErrMalformed},
		"exp bool":       {bearertest.Payload{"exp": true}, bearer.ErrMalformed},
		"exp negative":   {bearertest.Payload{"exp": -1}, bearer.ErrExpired},
		"exp huge":       {bearertest.Payload{"exp": 1e300}, bearer.ErrMalformed},
		"iss not string": {bearertest.Payload{"iss": 7}, bearer.ErrMalformed},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, a.Token(claims(tc.c)), bearer.ErrInvalidToken, tc.reason)
		})
	}
	t.Run("exp null", func(t *testing.T) {
		payload := `{"iss":"` + a.Issuer() + `","aud":"api","exp":null}`
		mustFail(t, v, a.Sign("RS256", []byte(`{"alg":"RS256","kid":"`+a.KeyID("RS256")+`"}`), []byte(payload)), bearer.ErrInvalidToken, bearer.ErrMalformed)
	})
	t.Run("exp 1e309", func(t *testing.T) {
		payload := `{"iss":"` + a.Issuer() + `","aud":"api","exp":1e309}`
		mustFail(t, v, a.Sign("RS256", []byte(`{"alg":"RS256","kid":"`+a.KeyID("RS256")+`"}`), []byte(payload)), bearer.ErrInvalidToken, bearer.ErrMalformed)
	})
}

func TestNoLeeway(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Leeway: -1})
	mustFail(t, v, a.Token(claims(bearertest.Payload{"exp": time.Now().Add(-2 * time.Second)})), bearer.ErrInvalidToken, bearer.ErrExpired)
}

func TestIssuerIsExact(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	iss := a.Issuer()
	for name, other := range map[string]string{
		"trailing slash": iss + "/",
		"case":           strings.ToUpper(iss),
		"scheme":         strings.Replace(iss, "http://", "https://", 1),
		"other":          "http://evil.example",
		"empty":          "",
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, v, a.Token(claims(bearertest.Payload{"iss": other})), bearer.ErrInvalidToken, bearer.ErrIssuer)
		})
	}
}

// TestTokenOfAnotherIssuer: a token from another authority is refused
// as an issuer mismatch, not as "no matching signing key", whether its
// kid is unknown here or no key verifies it. The unverified iss only
// picks the description: a token of this issuer under an unknown kid is
// still ErrUnknownKey, one without iss too, and a failing JWKS is still a
// 503.
func TestTokenOfAnotherIssuer(t *testing.T) {
	a, other := bearertest.New(t), bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	foreign := other.Token(claims(nil))
	e := mustFail(t, v, foreign, bearer.ErrInvalidToken, bearer.ErrIssuer)
	if e.Description != "issuer mismatch" || errors.Is(e, bearer.ErrUnknownKey) {
		t.Errorf("error %v", e)
	}
	// No kid to tell the keys apart: the signature fails.
	static := newValidator(t, a, bearer.Config{StaticKeys: pemOf(t, a.PublicKey("RS256"))})
	mustFail(t, static, other.TokenWith("RS256", map[string]any{"kid": nil}, claims(nil)), bearer.ErrInvalidToken, bearer.ErrIssuer)
	mustFail(t, static, other.TokenWith("RS256", map[string]any{"kid": nil}, claims(bearertest.Payload{"iss": a.Issuer()})), bearer.ErrInvalidToken, bearer.ErrSignature)

	mustFail(t, v, other.Token(claims(bearertest.Payload{"iss": a.Issuer()})), bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	mustFail(t, v, other.Token(claims(bearertest.Payload{"iss": nil})), bearer.ErrInvalidToken, bearer.ErrUnknownKey)

	a.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	mustFail(t, v, other.TokenWith("ES256", nil, claims(nil)), bearer.ErrUnavailable, nil)
}

func TestTokenType(t *testing.T) {
	a := bearertest.New(t)
	lax := newValidator(t, a, bearer.Config{})
	strict := newValidator(t, a, bearer.Config{StrictTokenType: true})
	cases := []struct {
		typ          any
		lax, strictO bool
	}{
		{"at+jwt", true, true},
		{"application/at+jwt", true, true},
		{"AT+JWT", true, true},
		{"JWT", true, false},
		{nil, true, false},
		{"logout+jwt", false, false},
		{"token-introspection+jwt", false, false},
		{"dpop+jwt", false, false},
		{"secevent+jwt", false, false},
		{"id_token+jwt", false, false},
		{"application/logout+jwt", false, false},
	}
	for _, tc := range cases {
		tok := a.TokenWith("ES256", map[string]any{"typ": tc.typ}, claims(nil))
		for _, x := range []struct {
			name string
			v    *bearer.Validator
			want bool
		}{{"lax", lax, tc.lax}, {"strict", strict, tc.strictO}} {
			_, err := x.v.Validate(context.Background(), tok)
			if (err == nil) != x.want {
				t.Errorf("typ %v %s: err = %v, want ok=%v", tc.typ, x.name, err, x.want)
			}
		}
	}
}

func TestSizeCap(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{MaxTokenSize: 1024})
	tok := a.Token(claims(bearertest.Payload{"pad": strings.Repeat("x", 2000)}))
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrTooLarge)
}

func TestEmptyToken(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	e := mustFail(t, v, "", bearer.ErrNoToken, nil)
	if e.Status != 401 || e.Code != "" {
		t.Errorf("error %+v", e)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ctx := context.Background()
	for name, cfg := range map[string]bearer.Config{
		"no authority":        {Audience: []string{"api"}},
		"relative authority":  {Authority: "login.example.com", Audience: []string{"api"}},
		"authority query":     {Authority: "https://a.example?x=1", Audience: []string{"api"}},
		"ftp authority":       {Authority: "ftp://a.example", Audience: []string{"api"}},
		"no aud or scopes":    {Authority: "https://a.example"},
		"empty audience":      {Authority: "https://a.example", Audience: []string{""}},
		"alg none":            {Authority: "https://a.example", Audience: []string{"api"}, Algorithms: []string{"none"}},
		"unknown alg":         {Authority: "https://a.example", Audience: []string{"api"}, Algorithms: []string{"RS1"}},
		"HS without secret":   {Authority: "https://a.example", Audience: []string{"api"}, Algorithms: []string{"HS256"}},
		"short secret":        {Authority: "https://a.example", Audience: []string{"api"}, Algorithms: []string{"HS256"}, SharedSecret: []byte("short")},
		"bad mode":            {Authority: "https://a.example", Audience: []string{"api"}, Mode: 9},
		"bad static keys":     {Authority: "https://a.example", Audience: []string{"api"}, StaticKeys: []byte("nonsense")},
		"empty scope require": {Authority: "https://a.example", RequiredScopes: bearer.AnyOf("", " ")},
	} {
		t.Run(name, func(t *testing.T) {
			v, err := bearer.New(ctx, cfg)
			if err == nil {
				v.Close()
				t.Fatal("New accepted the config")
			}
		})
	}
}

// TestConfigRefusals: New refuses a negative value where none makes no
// sense, and a setting given without the one it needs, with an error that
// names the field; NewIntrospector refuses the same.
func TestConfigRefusals(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	secret := []byte(strings.Repeat("s", 32))
	for name, tc := range map[string]struct {
		edit func(*bearer.Config)
		want string
	}{
		"negative MaxTokenSize":         {func(c *bearer.Config) { c.MaxTokenSize = -1 }, "Config.MaxTokenSize is negative"},
		"negative Timeout":              {func(c *bearer.Config) { c.Timeout = -time.Second }, "Config.Timeout is negative"},
		"negative KeyRefreshInterval":   {func(c *bearer.Config) { c.KeyRefreshInterval = -time.Hour }, "Config.KeyRefreshInterval is negative"},
		"negative KeyRefreshWindow":     {func(c *bearer.Config) { c.KeyRefreshWindow = -time.Second }, "Config.KeyRefreshWindow is negative"},
		"negative MaxTokenLifetime":     {func(c *bearer.Config) { c.MaxTokenLifetime = -time.Hour }, "Config.MaxTokenLifetime is negative"},
		"ClientSecret without ClientID": {func(c *bearer.Config) { c.ClientID, c.ClientSecret = "", "s" }, "Config.ClientSecret is set without Config.ClientID"},
		"ClientAuth without ClientID":   {func(c *bearer.Config) { c.ClientID, c.ClientSecret, c.ClientAuth = "", "", bearer.ClientSecretPost }, "Config.ClientAuth is set without Config.ClientID"},
		"endpoint without ClientID": {func(c *bearer.Config) {
			c.ClientID, c.ClientSecret, c.IntrospectionEndpoint = "", "", "https://a.example/i"
		}, "Config.IntrospectionEndpoint is set without Config.ClientID"},
		"signed answers without ClientID": {func(c *bearer.Config) {
			c.ClientID, c.ClientSecret, c.IntrospectionEndpoint, c.IntrospectionJWT = "", "", "", true
		}, "Config.IntrospectionJWT is set without Config.ClientID"},
		"store without ClientID": {func(c *bearer.Config) {
			c.ClientID, c.ClientSecret, c.IntrospectionEndpoint, c.IntrospectionCache = "", "", "", newRecordingStore()
		}, "Config.IntrospectionCache is set without Config.ClientID"},
		"ClientKey with basic":  {func(c *bearer.Config) { c.ClientKey = key }, "Config.ClientKey and Config.ClientKeyID are for ClientAuth PrivateKeyJWT"},
		"ClientKeyID with post": {func(c *bearer.Config) { c.ClientAuth, c.ClientKeyID = bearer.ClientSecretPost, "k1" }, "Config.ClientKey and Config.ClientKeyID are for ClientAuth PrivateKeyJWT"},
		"ClientSecret with private_key_jwt": {func(c *bearer.Config) { c.ClientAuth, c.ClientKey = bearer.PrivateKeyJWT, key },
			"Config.ClientSecret is not used with ClientAuth PrivateKeyJWT"},
		"JWKSURL with StaticKeys": {func(c *bearer.Config) { c.JWKSURL, c.StaticKeys = "https://a.example/keys", staticKeyPEM(t) }, "Config.JWKSURL and Config.StaticKeys exclude each other"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := bearer.Config{Authority: "https://a.example", Audience: []string{"api"}, ClientID: "api", ClientSecret: "s", IntrospectionEndpoint: "https://a.example/i"}
			tc.edit(&cfg)
			v, err := bearer.New(context.Background(), cfg)
			if err == nil {
				v.Close()
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want %q", err, tc.want)
			}
			cfg.Audience = nil
			if cfg.ClientID == "" { // NewIntrospector's own first complaint
				return
			}
			in, err := bearer.NewIntrospector(cfg)
			if err == nil {
				in.Close()
				t.Fatal("NewIntrospector accepted the config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewIntrospector: %v, want %q", err, tc.want)
			}
		})
	}

	// A shared secret no listed algorithm uses is a Validator's mistake.
	_, err := bearer.New(context.Background(), bearer.Config{Authority: "https://a.example", Audience: []string{"api"}, SharedSecret: secret})
	if err == nil || !strings.Contains(err.Error(), "Config.Algorithms lists no HS256") {
		t.Errorf("SharedSecret without an HS algorithm: %v", err)
	}
}

// TestConfigZeroAndNegative: zero is the default, a negative Leeway or
// cache setting means none.
func TestConfigZeroAndNegative(t *testing.T) {
	a := bearertest.New(t)
	def := newValidator(t, a, bearer.Config{})
	none := newValidator(t, a, bearer.Config{Leeway: -1, CacheDuration: -1})
	late := a.Token(claims(bearertest.Payload{"exp": time.Now().Add(-30 * time.Second)}))
	mustValid(t, def, late) // within defaultLeeway
	mustFail(t, none, late, bearer.ErrInvalidToken, bearer.ErrExpired)
	tok := a.Token(claims(nil))
	mustValid(t, none, tok)
	mustValid(t, none, tok)
	if st := none.Status(); st.CacheHits != 0 || st.CacheEntries != 0 {
		t.Errorf("CacheDuration -1 still caches: %+v", st)
	}
	mustValid(t, def, tok)
	mustValid(t, def, tok)
	if st := def.Status(); st.CacheHits != 1 {
		t.Errorf("the default cache missed: %+v", st)
	}
}

// TestReadyWinsOverAnEndedContext: a ready Validator is ready whatever
// the context; select would pick the ended context half the time.
func TestReadyWinsOverAnEndedContext(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 200 {
		if err := v.Ready(ctx); err != nil {
			t.Fatalf("Ready on a ready Validator: %v", err)
		}
	}
}
