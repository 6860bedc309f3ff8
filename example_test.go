package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
)

func ExampleNew() {
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()

	v, err := bearer.New(context.Background(), bearer.Config{
		Authority:      authority.Issuer(),
		Audience:       []string{"api"},
		RequiredScopes: bearer.AnyOf("api"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	token := authority.Token(bearertest.Payload{"aud": "api", "scope": "api", "sub": "bob"})
	claims, err := v.Validate(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Scopes)
	// Output: bob [api]
}

func ExampleValidator_Validate_errors() {
	authority := bearertest.NewAuthority()
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}, RequiredScopes: bearer.AnyOf("write")})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	expired := authority.Token(bearertest.Payload{"aud": "api", "scope": "write", "exp": time.Now().Add(-time.Hour)})
	readOnly := authority.Token(bearertest.Payload{"aud": "api", "scope": "read"})
	for _, token := range []string{"", expired, readOnly} {
		_, err := v.Validate(context.Background(), token)
		var e *bearer.Error
		if errors.As(err, &e) {
			fmt.Println(e.Status, e.Code, e.Description, errors.Is(err, bearer.ErrInvalidToken))
		}
	}
	// Output:
	// 401  no access token false
	// 401 invalid_token token expired true
	// 403 insufficient_scope insufficient scope false
}

func ExampleClaimsFromContext() {
	authority := bearertest.NewAuthority()
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := bearer.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", claims.Subject)
	})
	api := httptest.NewServer(middleware.New(v)(hello))
	defer api.Close()

	req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
	req.Header.Set("Authorization", "Bearer "+authority.Token(bearertest.Payload{"aud": "api"}))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var body [64]byte
	n, _ := resp.Body.Read(body[:])
	fmt.Println(resp.StatusCode, string(body[:n]))
	// Output: 200 hello alice
}

func ExampleAllOf() {
	write := bearer.AllOf("api", "api.write")
	fmt.Println(write.Check(&bearer.Claims{Scopes: []string{"api"}}))
	fmt.Println(write.Check(&bearer.Claims{Scopes: []string{"api.write", "api"}}))
	// Output:
	// bearer: insufficient scope: want api api.write
	// <nil>
}

func ExampleWriteError() {
	rec := httptest.NewRecorder()
	bearer.WriteError(rec, "api", bearer.AnyOf("admin").Check(&bearer.Claims{}))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output: 403 Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="admin"
}

// A handler that reads claims is tested without any token: NewClaims makes
// the claims the middleware would have put on the request.
func ExampleNewClaims() {
	// The handler under test: it greets the subject of a given tenant.
	greet := func(w http.ResponseWriter, r *http.Request) {
		claims, _ := bearer.ClaimsFromContext(r.Context())
		var ext struct {
			Tenant string `json:"tenant"`
		}
		if err := claims.Decode(&ext); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "hello %s of %s, you may write: %t", claims.Subject, ext.Tenant, claims.HasScope("write"))
	}

	claims, err := bearer.NewClaims(map[string]any{
		"sub":    "alice",
		"scope":  "read write",
		"tenant": "acme",
		"exp":    time.Now().Add(time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/greeting", nil)
	req = req.WithContext(bearer.NewContext(req.Context(), claims))
	rec := httptest.NewRecorder()
	greet(rec, req)
	fmt.Println(rec.Body.String())
	fmt.Println(claims.Map()["tenant"])
	// Output:
	// hello alice of acme, you may write: true
	// acme
}

// A payment needs its scope and a second factor: a token with the scope
// and a password sign-in is asked to step up (RFC 9470).
func ExampleACR() {
	pay := bearer.AllOf(bearer.AllOf("payments:write"), bearer.ACR("urn:example:mfa"), bearer.MaxAge(5*time.Minute))
	rec := httptest.NewRecorder()
	bearer.WriteError(rec, "api", pay.Check(&bearer.Claims{Scopes: []string{"payments:write"}, ACR: "urn:example:pwd", AuthTime: time.Now()}))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output: 401 Bearer realm="api", error="insufficient_user_authentication", error_description="a different authentication level is required", acr_values="urn:example:mfa", max_age="300"
}
