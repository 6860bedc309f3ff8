package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

// The authority signs a user out of the API: it posts a logout token to
// the backchannel_logout_uri registered for the API's client, and the
// access tokens of that session are refused from then on.
func ExampleValidator_LogoutHandler() {
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()

	v, err := bearer.New(context.Background(), bearer.Config{
		Authority:      authority.Issuer(),
		Audience:       []string{"api"},
		RequiredScopes: bearer.AnyOf("api"),
		// The API's client at the authority: logout tokens are addressed
		// to it (and it authenticates at the introspection endpoint).
		ClientID:     bearertest.DefaultClientID,
		ClientSecret: bearertest.DefaultClientSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /values", middleware.New(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "42")
	})))
	mux.Handle("POST /backchannel-logout", v.LogoutHandler()) // the backchannel_logout_uri
	api := httptest.NewServer(mux)
	defer api.Close()

	token := authority.Token(bearertest.Payload{"aud": "api", "scope": "api", "sid": "08a5019c"})
	fmt.Println(get(api.URL+"/values", token))

	// The user signs out at the authority, which tells the API.
	resp, err := authority.PostLogout(api.URL+"/backchannel-logout", authority.LogoutToken(bearertest.Payload{"sid": "08a5019c"}))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("logout:", resp.Status)

	fmt.Println(get(api.URL+"/values", token))
	// Output:
	// 200 OK
	// logout: 200 OK
	// 401 Unauthorized Bearer realm="api", error="invalid_token", error_description="token revoked"
}

func get(url, token string) string {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Header.Get("WWW-Authenticate"); c != "" {
		return resp.Status + " " + c
	}
	return resp.Status
}

// An application that signs users in with go-oidc verifies their ID
// tokens with the keys its API guard already holds: one JWKS cache for
// both, and go-oidc fetches nothing itself.
func ExampleValidator_KeySet() {
	authority := bearertest.NewAuthority()
	defer authority.Close()

	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	verifier := oidc.NewVerifier(authority.Issuer(), v.KeySet(), &oidc.Config{ClientID: "web-app"})

	rawIDToken := authority.TokenWith("RS256", map[string]any{"typ": "JWT"}, bearertest.Payload{"aud": "web-app", "sub": "alice"})
	idToken, err := verifier.Verify(context.Background(), rawIDToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(idToken.Subject, idToken.Audience)
	// Output: alice [web-app]
}

// An application revokes tokens itself: here every token of a user
// issued until now, for instance when an administrator locks the account.
func ExampleValidator_Revoke() {
	authority := bearertest.NewAuthority()
	defer authority.Close()

	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	token := authority.Token(bearertest.Payload{"aud": "api", "sub": "mallory"})
	if err := v.Revoke(context.Background(), bearer.Revocation{Subject: "mallory"}); err != nil {
		log.Fatal(err)
	}
	_, err = v.Validate(context.Background(), token)
	fmt.Println(errors.Is(err, bearer.ErrRevoked), err)
	// Output: true bearer: invalid token: token revoked
}
