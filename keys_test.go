package bearer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

func TestKeyPublishedAfterStartAcceptedOnFirstRequest(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	old := a.Token(claims(nil))
	mustValid(t, v, old)

	a.RotateKey("RS256")
	mustValid(t, v, a.Token(claims(nil))) // the very first request with the new kid
	mustValid(t, v, old)                  // the old key is still published
}

func TestRotationUnderConcurrentLoadCostsNo401(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	a.RotateKey("ES256")
	tok := a.TokenWith("ES256", nil, claims(nil))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Validate(context.Background(), tok); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestUnpublishedKeyIsRefusedAfterRefresh(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	oldKid := a.KeyID("RS256")
	old := a.Token(claims(nil))
	a.RotateKey("RS256")
	a.Unpublish(oldKid)
	mustValid(t, v, a.Token(claims(nil))) // fetches the new set
	mustFail(t, v, old, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
}

func TestJWKSDownAfterWarmUp(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{KeyRefreshWindow: time.Millisecond})
	mustValid(t, v, a.Token(claims(nil)))
	a.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	for _, alg := range bearer.DefaultAlgorithms {
		mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
	}
	// A kid that cannot be looked up while the JWKS is down is the
	// authority's failure, not the token's.
	time.Sleep(5 * time.Millisecond)
	tok := a.TokenWith("RS256", map[string]any{"kid": "rotated-meanwhile"}, claims(nil))
	e := mustFail(t, v, tok, bearer.ErrUnavailable, nil)
	if e.Status != http.StatusServiceUnavailable || e.RetryAfter <= 0 {
		t.Errorf("error %+v", e)
	}
}

func TestColdStartAuthorityDownThenUp(t *testing.T) {
	addr := refusedAddr(t)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: "http://" + addr, Audience: []string{"api"}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("New must not fail while the authority is down: %v", err)
	}
	defer v.Close()
	e := mustFail(t, v, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", bearer.ErrUnavailable, nil)
	if e.Status != 503 || e.RetryAfter < time.Second {
		t.Errorf("error %+v", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if err := v.Ready(ctx); err == nil {
		t.Error("Ready returned nil while the authority is down")
	}
	cancel()

	a := bearertest.New(t, bearertest.WithAddr(addr))
	tok := a.Token(claims(nil))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Validate(context.Background(), tok)
		if err == nil {
			break
		}
		if !errors.Is(err, bearer.ErrUnavailable) {
			t.Fatalf("while recovering: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing 5s after the authority came up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAuthorityAnswering503AtStart(t *testing.T) {
	a := bearertest.New(t)
	a.SetDown(true)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok := a.Token(claims(nil))
	mustFail(t, v, tok, bearer.ErrUnavailable, nil)
	a.SetDown(false)
	time.Sleep(1100 * time.Millisecond) // attempts are spaced by a second
	mustValid(t, v, tok)
}

func TestOneBadKeyDoesNotDiscardTheOthers(t *testing.T) {
	a := bearertest.New(t)
	a.PublishRaw(
		json.RawMessage(`{"kty":"RSA","kid":"broken","n":"!!!","e":"AQAB"}`),
		json.RawMessage(`{"kty":"EC","kid":"bad-curve","crv":"P-192","x":"AA","y":"AA"}`),
		json.RawMessage(`{"kty":"oct","kid":"secret","k":"c2VjcmV0"}`),
		json.RawMessage(`"not an object"`),
	)
	v := newValidator(t, a, bearer.Config{})
	for _, alg := range bearer.DefaultAlgorithms {
		mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
	}
}

func TestKeyMetadataRestrictsUse(t *testing.T) {
	a := bearertest.New(t)
	pub := a.PublicKey("ES256").(*ecdsa.PublicKey)
	x, y := pub.X.FillBytes(make([]byte, 32)), pub.Y.FillBytes(make([]byte, 32))
	jwk := func(kid, extra string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"kty":"EC","crv":"P-256","kid":%q,"x":%q,"y":%q%s}`, kid, enc.EncodeToString(x), enc.EncodeToString(y), extra))
	}
	a.PublishRaw(jwk("enc-key", `,"use":"enc"`), jwk("wrap-key", `,"key_ops":["wrapKey"]`), jwk("es384-key", `,"alg":"ES384"`), jwk("verify-key", `,"key_ops":["verify"]`))
	v := newValidator(t, a, bearer.Config{})
	for _, kid := range []string{"enc-key", "wrap-key", "es384-key"} {
		t.Run(kid, func(t *testing.T) {
			tok := a.TokenWith("ES256", map[string]any{"kid": kid}, claims(nil))
			mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrUnknownKey)
		})
	}
	mustValid(t, v, a.TokenWith("ES256", map[string]any{"kid": "verify-key"}, claims(nil)))
}

func TestPrivateMembersInJWKSAreIgnored(t *testing.T) {
	a := bearertest.New(t)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	x, y := priv.X.FillBytes(make([]byte, 32)), priv.Y.FillBytes(make([]byte, 32))
	a.PublishRaw(json.RawMessage(fmt.Sprintf(`{"kty":"EC","crv":"P-256","kid":"leaky","x":%q,"y":%q,"d":"bm90IHRoZSByZWFsIGQ"}`, enc.EncodeToString(x), enc.EncodeToString(y))))
	v := newValidator(t, a, bearer.Config{})
	mustValid(t, v, a.TokenWith("ES256", nil, claims(nil)))
}

func TestShortRSAKeyRefused(t *testing.T) {
	a := bearertest.New(t)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	_, err := bearer.New(context.Background(), bearer.Config{
		Authority: a.Issuer(), Audience: []string{"api"},
		StaticKeys: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
	})
	if err == nil || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("New with a 1024-bit static key: %v", err)
	}
}

func TestStaticKeys(t *testing.T) {
	a := bearertest.New(t)
	rsaDER, _ := x509.MarshalPKIXPublicKey(a.PublicKey("RS256"))
	edDER, _ := x509.MarshalPKIXPublicKey(a.PublicKey("EdDSA"))
	pkcs1 := x509.MarshalPKCS1PublicKey(a.PublicKey("RS256").(*rsa.PublicKey))

	// A self-signed certificate for the ES256 key, as IdentityServer3's
	// SigningCertificate would be given.
	certKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signing"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, a.PublicKey("ES256"), certKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKeys := append(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})...)
	pemKeys = append(pemKeys, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: edDER})...)

	cases := map[string]struct {
		keys []byte
		algs []string
	}{
		"PEM and certificate": {pemKeys, []string{"RS256", "PS256", "ES256", "EdDSA"}},
		"PKCS#1":              {pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}), []string{"RS256"}},
		"JWK Set":             {a.JWKS(), bearer.DefaultAlgorithms},
	}
	var set struct{ Keys []json.RawMessage }
	_ = json.Unmarshal(a.JWKS(), &set)
	for _, k := range set.Keys {
		if strings.Contains(string(k), `"EdDSA"`) || strings.Contains(string(k), `"Ed25519"`) {
			cases["single JWK"] = struct {
				keys []byte
				algs []string
			}{k, []string{"EdDSA"}}
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a.ResetHits()
			v := newValidator(t, a, bearer.Config{StaticKeys: tc.keys})
			for _, alg := range tc.algs {
				mustValid(t, v, a.TokenWith(alg, nil, claims(nil)))
			}
			other := bearertest.New(t)
			mustFail(t, v, other.TokenWith(tc.algs[0], nil, claims(bearertest.Payload{"iss": a.Issuer()})), bearer.ErrInvalidToken, nil)
			if n := a.Hits(bearertest.Discovery) + a.Hits(bearertest.JWKS); n != 0 {
				t.Errorf("static keys caused %d requests to the authority", n)
			}
		})
	}
	_ = ed25519.PublicKeySize
}

// TestStaticKeySetWithEncryptionKeys: a JWK Set given as StaticKeys may
// hold encryption keys, as the authority's own does; they verify nothing.
// Any other key that cannot be used is a configuration error.
func TestStaticKeySetWithEncryptionKeys(t *testing.T) {
	a := bearertest.New(t)
	var set struct{ Keys []json.RawMessage }
	_ = json.Unmarshal(a.JWKS(), &set)
	n := enc.EncodeToString(a.PublicKey("RS256").(*rsa.PublicKey).N.Bytes())
	withEnc := append(slices.Clone(set.Keys), json.RawMessage(`{"kty":"RSA","kid":"enc","use":"enc","e":"AQAB","n":"`+n+`"}`))
	keys, _ := json.Marshal(map[string]any{"keys": withEnc})
	v := newValidator(t, a, bearer.Config{StaticKeys: keys})
	mustValid(t, v, a.TokenWith("RS256", nil, claims(nil)))
	mustFail(t, v, a.TokenWith("RS256", map[string]any{"kid": "enc"}, claims(nil)), bearer.ErrInvalidToken, bearer.ErrUnknownKey)

	withCurve := append(slices.Clone(set.Keys), json.RawMessage(`{"kty":"OKP","crv":"Ed448","x":"AA"}`))
	keys, _ = json.Marshal(map[string]any{"keys": withCurve})
	_, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, StaticKeys: keys})
	if err == nil || !strings.Contains(err.Error(), "Ed448") {
		t.Errorf("New with an Ed448 static key: %v", err)
	}
}

// TestCloseIsNoFailure: a JWKS fetch cut short by Close is not logged as
// a failure.
func TestCloseIsNoFailure(t *testing.T) {
	a := bearertest.New(t)
	var logs logBuffer
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	a.SetDelay(bearertest.JWKS, time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.Validate(context.Background(), a.TokenWith("RS256", map[string]any{"kid": "new"}, claims(nil)))
	}()
	for a.Hits(bearertest.JWKS) < 2 { // the fetch is under way
		time.Sleep(5 * time.Millisecond)
	}
	v.Close()
	<-done
	if out := logs.String(); strings.Contains(out, "WARN") || strings.Contains(out, "ERROR") {
		t.Errorf("Close logged a failure:\n%s", out)
	}
}

// TestKeyWaitersOfOneKidUnbounded: at a key rotation every token of the
// new key names the same kid, and on a busy API more than 256 of them can
// wait for the one fetch that brings it; none is refused for their
// number (the soak's replicas answered 503 to good tokens beyond 256).
// The bound is on the distinct kids waited for
// (TestIssue26_UnknownKidWaitersBounded).
func TestKeyWaitersOfOneKidUnbounded(t *testing.T) {
	const n = 300
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Timeout: 5 * time.Minute})
	a.SetDelay(bearertest.JWKS, time.Hour)
	token := a.TokenWith("RS256", map[string]any{"kid": "rotated"}, claims(nil))
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := v.Validate(context.Background(), token)
			errs <- err
		})
	}
	for deadline := time.Now().Add(time.Minute); v.Status().KeyWaiters < n; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-errs:
			t.Fatalf("a request came back while the fetch hangs: %v (%d wait)", err, v.Status().KeyWaiters)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait, want %d", v.Status().KeyWaiters, n)
		}
	}
	v.Close() // ends their wait
	wg.Wait()
}

// TestIssue26_UnknownKidWaitersBounded: while the JWKS endpoint hangs,
// tokens with made-up kids wait for its answer up to the documented 256 at
// once (Status.KeyWaiters); the others get 503 with Retry-After at once,
// never 401, and never a wait.
func TestIssue26_UnknownKidWaitersBounded(t *testing.T) {
	const bound, extra = 256, 50
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Timeout: 5 * time.Minute})
	a.SetDelay(bearertest.JWKS, time.Hour)
	// The kid is looked up before the signature is checked: a made-up
	// header on a real token's payload and signature is enough.
	rest := strings.SplitN(a.Token(claims(nil)), ".", 2)[1]
	madeUp := func(i int) string {
		header := fmt.Sprintf(`{"alg":"RS256","typ":"at+jwt","kid":"made-up-%d"}`, i)
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + rest
	}

	errs := make(chan error, bound+extra)
	var wg sync.WaitGroup
	for i := range bound + extra {
		wg.Go(func() {
			_, err := v.Validate(context.Background(), madeUp(i))
			errs <- err
		})
	}
	// The JWKS hangs: only requests refused at the bound come back.
	var refused []error
	for deadline := time.Now().Add(time.Minute); len(refused) < extra || v.Status().KeyWaiters < bound; {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests came back and %d wait, want %d and %d: %v", len(refused), v.Status().KeyWaiters, extra, bound, refused)
		}
		select {
		case err := <-errs:
			refused = append(refused, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if len(refused) != extra || v.Status().KeyWaiters != bound {
		t.Errorf("%d requests came back and %d wait, want %d and %d", len(refused), v.Status().KeyWaiters, extra, bound)
	}
	for _, err := range refused {
		e := bearer.AsError(err)
		if !errors.Is(err, bearer.ErrUnavailable) || e.Status != http.StatusServiceUnavailable || e.RetryAfter < time.Second {
			t.Fatalf("a request beyond the bound: %v (status %d, Retry-After %v), want 503 with Retry-After", err, e.Status, e.RetryAfter)
		}
	}

	v.Close() // ends the wait of the others
	wg.Wait()
	if n := v.Status().KeyWaiters; n != 0 {
		t.Errorf("KeyWaiters = %d once every request came back", n)
	}
}
