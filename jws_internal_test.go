package bearer

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// TestEveryKindReadsItsHeaderStrictly: access tokens, what KeySet verifies
// for go-oidc, logout tokens and signed introspection answers share one
// reader (jws.go), so each refuses, before any key is looked at, a header
// that names a member twice or in another case, or one that would choose
// its own key or extension; each token below is otherwise one its kind
// accepts, signed by the authority's key.
func TestEveryKindReadsItsHeaderStrictly(t *testing.T) {
	a := bearertest.New(t)
	ctx := context.Background()
	v, err := New(ctx, Config{Authority: a.Issuer(), Audience: []string{"api"}, ClientID: bearertest.DefaultClientID, Mode: ModeJWT})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	in, err := NewIntrospector(Config{Authority: a.Issuer(), ClientID: bearertest.DefaultClientID,
		ClientSecret: bearertest.DefaultClientSecret, IntrospectionJWT: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close() })
	r, err := in.p.get(ctx)
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now().Unix()
	fill := strings.NewReplacer("{iss}", a.Issuer(), "{kid}", a.KeyID("RS256"), "{client}", bearertest.DefaultClientID,
		"{iat}", strconv.FormatInt(now, 10), "{exp}", strconv.FormatInt(now+600, 10)).Replace
	kinds := []struct {
		name, typ, payload string
		check              func(token string) error
	}{
		{"access token", "at+jwt", `{"iss":"{iss}","aud":"api","sub":"alice","exp":{exp}}`, func(token string) error {
			_, err := v.Validate(ctx, token)
			return err
		}},
		{"KeySet", "JWT", `{"iss":"{iss}","aud":"api","sub":"alice","exp":{exp}}`, func(token string) error {
			_, err := v.KeySet().VerifySignature(ctx, token)
			return err
		}},
		{"logout token", "logout+jwt", `{"iss":"{iss}","aud":"{client}","sub":"alice","iat":{iat},"exp":{exp},"jti":"` + strconv.FormatInt(now, 10) +
			`","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`, func(token string) error {
			_, err := v.sole.verifyLogout(ctx, token)
			return err
		}},
		{"introspection answer", "token-introspection+jwt", `{"iss":"{iss}","aud":"{client}","iat":{iat},"token_introspection":{"active":false}}`, func(token string) error {
			_, err := in.verifyJWTResponse(ctx, r, []byte(token))
			return err
		}},
	}
	for _, k := range kinds {
		good := `"alg":"RS256","kid":"{kid}","typ":"` + k.typ + `"`
		if err := k.check(a.Sign("RS256", []byte(fill("{"+good+"}")), []byte(fill(k.payload)))); err != nil {
			t.Fatalf("%s: the good token is refused: %v", k.name, err)
		}
		for _, extra := range []string{
			`"alg":"RS256"`, `"ALG":"RS256"`, `"kid":"{kid}"`, `"Kid":"{kid}"`, `"Typ":"` + k.typ + `"`, `"\u0074yp":"` + k.typ + `"`,
			`"Crit":["exp"]`, `"crit":["exp"]`, `"jku":"https://evil.example/jwks"`, `"x5u":"https://evil.example/x5u"`,
			`"x5c":["MIIB"]`, `"jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, `"X5U":"https://evil.example/x5u"`,
		} {
			token := a.Sign("RS256", []byte(fill("{"+good+","+extra+"}")), []byte(fill(k.payload)))
			err := k.check(token)
			if err == nil {
				t.Errorf("%s: header with %s accepted", k.name, extra)
				continue
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrHeader) {
				t.Errorf("%s: header with %s: %v, want it malformed or forbidden", k.name, extra, err)
			}
		}
	}
}

// TestProofHeaderNamesNoOtherKey: a DPoP proof's key is its jwk; a proof
// that also points at a key elsewhere (jku, x5u, x5c) is refused, as crit
// always was, by the reader every kind shares.
func TestProofHeaderNamesNoOtherKey(t *testing.T) {
	const uri, token = "https://api.example/values", "the-token"
	d, err := DPoPConfig{}.settings(defaultLeeway, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := bearertest.NewDPoPKey("ES256")
	check := func(header map[string]any) error {
		p := Presentation{Scheme: "DPoP", Token: token, Method: "GET", URL: uri, DPoP: []string{key.ProofWith("GET", uri, token, header, nil)}}
		return d.checkProof(context.Background(), p, confirmation{jkt: key.Thumbprint()})
	}
	if err := check(nil); err != nil {
		t.Fatalf("good proof refused: %v", err)
	}
	for member, value := range map[string]any{"crit": []string{"x"}, "jku": "https://evil.example/jwks", "x5u": "https://evil.example/x5u", "x5c": []string{"MIIB"}} {
		var e *Error
		if err := check(map[string]any{member: value}); !errors.As(err, &e) || !errors.Is(err, ErrDPoPProof) || e.Description != "DPoP proof has "+member {
			t.Errorf("proof with %s: %v, want refused as having it", member, err)
		}
	}
}
