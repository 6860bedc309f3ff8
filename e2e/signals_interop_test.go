package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/signals"
)

// joseTransmitter is a transmitter whose SETs are built and signed by an
// independent JOSE implementation, go-jose: its metadata and its JWK Set
// are go-jose's too.
type joseTransmitter struct {
	srv  *httptest.Server
	keys map[string]any // kid → private key
}

func newJoseTransmitter(t *testing.T) *joseTransmitter {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jt := &joseTransmitter{keys: map[string]any{"ec-1": ec, "rsa-1": rs}}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &ec.PublicKey, KeyID: "ec-1", Algorithm: string(jose.ES256), Use: "sig"},
		{Key: &rs.PublicKey, KeyID: "rsa-1", Algorithm: string(jose.PS256), Use: "sig"},
	}}
	mux := http.NewServeMux()
	jt.srv = httptest.NewServer(mux)
	t.Cleanup(jt.srv.Close)
	mux.HandleFunc("GET /.well-known/ssf-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"spec_version": "1_0", "issuer": jt.srv.URL, "jwks_uri": jt.srv.URL + "/jwks",
			"delivery_methods_supported": []string{signals.DeliveryPush}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(set) })
	return jt
}

// sign builds and signs a SET with go-jose: alg with the key kid, typ
// secevent+jwt, and the claims given.
func (jt *joseTransmitter) sign(t *testing.T, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: jt.keys[kid], KeyID: kid}},
		(&jose.SignerOptions{}).WithType("secevent+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSharedSignalsInterop receives SETs that go-jose built and signed
// (ES256 and PS256, its own JWK Set): a session-revoked event revokes the
// session it names, and a SET signed by a key go-jose's set does not hold
// is refused as invalid_key. (SGNL's secevent package, the Go library of
// caep.dev, is not on the module proxy this was built with; go-jose is
// the independent implementation.)
func TestSharedSignalsInterop(t *testing.T) {
	a := bearertest.New(t)
	jt := newJoseTransmitter(t)
	ctx := context.Background()
	v, err := bearer.New(ctx, bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	r, err := signals.New(ctx, signals.Config{Transmitter: jt.srv.URL, Audience: "https://api.example.com", Validator: v,
		Issuer: a.Issuer(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	push := httptest.NewServer(r)
	defer push.Close()

	claims := func(sid string) map[string]any {
		return map[string]any{
			"iss": jt.srv.URL, "aud": []string{"https://api.example.com"}, "iat": time.Now().Unix(), "jti": rand.Text(),
			"sub_id": map[string]any{"format": "complex", "session": map[string]any{"format": "opaque", "id": sid},
				"user": map[string]any{"format": "iss_sub", "iss": a.Issuer(), "sub": "alice"}},
			"events": map[string]any{bearertest.SessionRevoked: map[string]any{
				"event_timestamp": time.Now().Unix(), "initiating_entity": "admin",
				"reason_admin": map[string]string{"en": "Landspeed Policy Violation"},
			}},
		}
	}
	for _, c := range []struct {
		alg jose.SignatureAlgorithm
		kid string
	}{{jose.ES256, "ec-1"}, {jose.PS256, "rsa-1"}} {
		sid := "s-" + c.kid
		token := a.Token(bearertest.Payload{"aud": "api", "sid": sid})
		if _, err := v.Validate(ctx, token); err != nil {
			t.Fatal(err)
		}
		if status, code := pushTo(t, push.URL, jt.sign(t, c.alg, c.kid, claims(sid))); status != http.StatusAccepted {
			t.Fatalf("%s SET from go-jose: %d %s", c.alg, status, code)
		}
		if _, err := v.Validate(ctx, token); !errors.Is(err, bearer.ErrRevoked) {
			t.Errorf("%s: the session's token after session-revoked: %v", c.alg, err)
		}
	}

	// A key go-jose's set does not publish.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jt.keys["ec-2"] = other
	if status, code := pushTo(t, push.URL, jt.sign(t, jose.ES256, "ec-2", claims("s-x"))); status != http.StatusBadRequest || code != "invalid_key" {
		t.Errorf("a SET signed by an unpublished key: %d %q, want 400 invalid_key", status, code)
	}
}

// pushTo posts set to url and returns the status and the RFC 8935 code.
func pushTo(t *testing.T, url, set string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/secevent+jwt", strings.NewReader(set))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Err string `json:"err"`
	}
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Err
}
