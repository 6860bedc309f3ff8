package conformance

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// Setup names the authority and the validator a case is sent to. Every
// validator expects aud "api" and, but for Unreachable, is ready before
// the first request.
type Setup int

const (
	// Standard is Env.Authority, up, validated in ModeJWT (Env.OK). Its
	// JWK Set also holds the keys of publishKeys, and its EdDSA key was
	// rotated after the validator fetched the set.
	Standard Setup = iota
	// Unreachable is an authority whose address refuses connections
	// (Env.Down).
	Unreachable
	// Introspecting is Env.Authority in ModeAuto: reference tokens go to
	// its introspection endpoint, with credentials full of characters that
	// need form-urlencoding.
	Introspecting
	// Canned is ModeAuto with an introspection endpoint that answers what
	// the token names: see cannedToken.
	Canned
	// Tenant is a second authority, served under a path, whose JWKS
	// endpoint has answered 500 since the validator fetched its keys.
	// Tokens are minted by it.
	Tenant
	// ColdJWKSDown is a validator of the Tenant authority started after
	// its JWKS endpoint failed. Tokens are minted by the Tenant authority.
	ColdJWKSDown
	// IssuerMismatch is an authority whose discovery document names
	// another issuer.
	IssuerMismatch
	// Downgrade is an https authority whose jwks_uri is http.
	Downgrade
	// Redirect is an authority whose discovery document redirects to
	// another host, which serves a document that would otherwise work.
	Redirect
	// HugeJWKS is an authority whose JWK Set is 2 MiB.
	HugeJWKS
	// SlowJWKS is an authority whose JWK Set stalls after its first bytes.
	SlowJWKS
	// NoIntrospection is Env.Authority in ModeAuto without a ClientID:
	// reference tokens cannot be introspected.
	NoIntrospection
	// DPoPRequired is Env.Authority with DPoPRequired.
	DPoPRequired
	// DPoPDisabled is Env.Authority with DPoPDisabled.
	DPoPDisabled
	// DPoPNonces is Env.Authority issuing DPoP nonces (DPoPNonceSecret).
	DPoPNonces
	// DPoPReplayFull is Env.Authority whose DPoP replay store cannot
	// record one more proof, as a memory full of unexpired ones.
	DPoPReplayFull
	// DPoPOrigins is Env.Authority whose DPoPConfig.Origins names
	// PublicOrigin alone: htu must name it, whatever host the request
	// names.
	DPoPOrigins
	// DPoPSeveral is NewMulti with Env.Authority alone, in ModeAuto with
	// the client its introspection endpoint accepts.
	DPoPSeveral
	// RevocationsUnsynced is Env.Authority with RequireRevocationSync and a
	// RevocationStore that never delivers the revocations in force. Its
	// keys are fetched before the first request.
	RevocationsUnsynced
	// StaleKeys is a validator of the Tenant authority with MaxKeySetAge,
	// whose keys grew older than it while the JWKS endpoint failed.
	// Tokens are minted by the Tenant authority.
	StaleKeys
)

// PublicOrigin is the origin of the DPoPOrigins setup.
const PublicOrigin = "https://api.example"

// fullReplays is a RevocationStore that carries no revocations and
// records no more ids.
type fullReplays struct{}

func (fullReplays) Revoke(context.Context, bearer.Revocation) error { return nil }

func (fullReplays) Subscribe(ctx context.Context, _ func(bearer.Revocation), synced func()) error {
	synced()
	<-ctx.Done()
	return nil
}

func (fullReplays) FirstSeen(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("conformance: the replay memory is full")
}

// DPoPNonceSecret is the nonce secret of the DPoPNonces setup.
var DPoPNonceSecret = []byte("conformance-dpop-nonce-secret-of-32-bytes")

// staleKeysAge is the KeyRefreshInterval and MaxKeySetAge of StaleKeys:
// short, for a setup made at once, and not so short that the refreshes of
// a failing endpoint, spaced by it, cost the table's run.
const staleKeysAge = 200 * time.Millisecond

// setupTimeout is Config.Timeout for the setups that wait on a failing
// authority: long enough for loopback, short enough for the table.
const setupTimeout = time.Second

// The one client the Env's authority accepts at its introspection
// endpoint.
const (
	specialClientID     = "api:client/ü &=%+"
	specialClientSecret = `s3cr:t/?#[]@!$&'()*+,;= %"\`
)

// Key IDs of the extra keys publishKeys adds to the Env's authority.
const (
	kidEncryption  = "conformance-use-enc"
	kidWrapOnly    = "conformance-ops-wrap"
	kidVerifyOnly  = "conformance-ops-verify"
	kidPrivate     = "conformance-private-members"
	kidShortRSA    = "conformance-rsa-1024"
	kidDuplicate   = "conformance-duplicate"
	bogusRSAModulo = "t7RFzxmOegIo4cjiOYgHikndUOiK3O9PggRRHJyYU9INbPCNwqTDnJEp-ScxkvcQ16TdmdPpAvCETs_QQc4zSJxonK0UbBrmi1UQuptX_yhYyY5DAOD8M0-V8cbOrP-18R07R_PHKnCdmJk-UdTCHYSfxWvToKIPi0pVUMFt9gpMWAeIoH5CfPIB-C9OC-iDeGGuJQxs1zEfHbW0FBTqrNZPxMG0ckEQtqIKwpg--ZWUATDuEJX_0NPb9_ncRuI_vFBEnNAgxiN9gefEJVVPgYaIYeKb7_BkqsKFL5VTgYlMrpSUIvQ0w6u2z-jGq0nGaPjo2s8mEQPcSIvnuq7bAQ"
)

// envKeys are what the cases need to know of the extra keys.
type envKeys struct {
	shortRSA   *rsa.PrivateKey // published under kidShortRSA, never loaded
	rotatedKid string          // the EdDSA key published after the fetch
}

var (
	shortRSAOnce sync.Once
	shortRSAKey  *rsa.PrivateKey
)

// publishKeys adds keys to a's JWK Set that a validator must treat
// carefully: one for encryption, one whose key_ops exclude verify, one
// whose key_ops allow it, one with a private member, an RSA key of 1024
// bits, and two keys under one kid of which only the second verifies.
func publishKeys(a *bearertest.Authority) *envKeys {
	shortRSAOnce.Do(func() {
		var err error
		if shortRSAKey, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			panic("conformance: " + err.Error())
		}
	})
	ec := a.PublicKey("ES256").(*ecdsa.PublicKey)
	ecJWK := func(kid, extra string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"kty":"EC","crv":"P-256","kid":%q,"x":%q,"y":%q%s}`,
			kid, b64(ec.X.FillBytes(make([]byte, 32))), b64(ec.Y.FillBytes(make([]byte, 32))), extra))
	}
	rsaJWK := func(kid string, n []byte) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"kty":"RSA","kid":%q,"alg":"RS256","use":"sig","n":%q,"e":"AQAB"}`, kid, b64(n)))
	}
	bogus, _ := base64.RawURLEncoding.DecodeString(bogusRSAModulo)
	a.PublishRaw(
		ecJWK(kidEncryption, `,"use":"enc"`),
		ecJWK(kidWrapOnly, `,"key_ops":["wrapKey","unwrapKey"]`),
		ecJWK(kidVerifyOnly, `,"use":"sig","key_ops":["verify"]`),
		ecJWK(kidPrivate, `,"d":"bm90IHRoZSByZWFsIHByaXZhdGUga2V5IGF0IGFsbCEh"`),
		rsaJWK(kidShortRSA, shortRSAKey.N.Bytes()),
		rsaJWK(kidDuplicate, bogus),
		rsaJWK(kidDuplicate, a.PublicKey("RS256").(*rsa.PublicKey).N.Bytes()),
	)
	return &envKeys{shortRSA: shortRSAKey}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signRS256 signs header and payload with key, which the authority does
// not hold.
func signRS256(key *rsa.PrivateKey, header, payload string) string {
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic("conformance: " + err.Error())
	}
	return input + "." + b64(sig)
}

// extras are the setups made on first use.
type extras struct {
	tenant     *bearertest.Authority
	validators map[Setup]*bearer.Validator
}

// extras makes the other setups once. Their servers and validators close
// when the Env's test ends. A setup that cannot be made fails the test
// and answers through the unreachable validator, which fails closed.
func (e *Env) extras() *extras {
	e.once.Do(func() {
		x, err := e.makeExtras()
		if err != nil {
			e.t.Errorf("conformance: %v", err)
			x = &extras{tenant: e.Authority, validators: map[Setup]*bearer.Validator{}}
			for s := Introspecting; s <= StaleKeys; s++ {
				x.validators[s] = e.Down
			}
		}
		e.extra = x
	})
	return e.extra
}

func (e *Env) makeExtras() (*extras, error) {
	x := &extras{validators: make(map[Setup]*bearer.Validator)}
	// Servers first: cleanups run last-in first-out, so the validators
	// close before what they talk to.
	x.tenant = bearertest.NewAuthority(bearertest.WithPath("/tenant/api"))
	e.t.Cleanup(x.tenant.Close)
	stop := make(chan struct{})
	fake := httptest.NewServer(nil)
	elsewhere := httptest.NewServer(nil)
	tlsFake := httptest.NewTLSServer(nil)
	canned := httptest.NewServer(nil)
	e.t.Cleanup(func() {
		close(stop)
		for _, s := range []*httptest.Server{fake, elsewhere, tlsFake, canned} {
			s.Close()
		}
	})
	fake.Config.Handler = fakeAuthorities(fake.URL, elsewhere.URL, stop)
	elsewhere.Config.Handler = serveJSON(fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, fake.URL+"/redirect", e.Authority.JWKSURL()))
	tlsFake.Config.Handler = serveJSON(fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, tlsFake.URL, strings.Replace(tlsFake.URL, "https:", "http:", 1)+"/jwks"))
	canned.Config.Handler = cannedIntrospection(e.Authority.Issuer(), elsewhere.URL, stop)

	start := func(s Setup, cfg bearer.Config, wait bool) error {
		cfg.Audience = []string{"api"}
		cfg.Logger = e.logger
		if cfg.Mode == bearer.ModeAuto && cfg.ClientID == "" && s != NoIntrospection {
			cfg.Mode = bearer.ModeJWT
		}
		v, err := bearer.New(context.Background(), cfg)
		if err != nil {
			return fmt.Errorf("setup %d: %v", s, err)
		}
		e.t.Cleanup(func() { v.Close() })
		x.validators[s] = v
		if !wait {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := v.Ready(ctx); err != nil {
			return fmt.Errorf("setup %d: Ready: %v", s, err)
		}
		return nil
	}
	type setup struct {
		s    Setup
		cfg  bearer.Config
		wait bool
	}
	for _, su := range []setup{
		{Introspecting, bearer.Config{Authority: e.Authority.Issuer(), ClientID: specialClientID, ClientSecret: specialClientSecret}, true},
		{Canned, bearer.Config{Authority: e.Authority.Issuer(), ClientID: "api", ClientSecret: "secret", IntrospectionEndpoint: canned.URL, Timeout: setupTimeout}, true},
		{Tenant, bearer.Config{Authority: x.tenant.Issuer(), Timeout: setupTimeout, KeyRefreshWindow: time.Second}, true},
		{StaleKeys, bearer.Config{Authority: x.tenant.Issuer(), Timeout: setupTimeout, KeyRefreshInterval: staleKeysAge, MaxKeySetAge: staleKeysAge}, true},
		{IssuerMismatch, bearer.Config{Authority: fake.URL + "/impostor", Timeout: setupTimeout}, false},
		{Downgrade, bearer.Config{Authority: tlsFake.URL, Timeout: setupTimeout, HTTPClient: tlsFake.Client()}, false},
		{Redirect, bearer.Config{Authority: fake.URL + "/redirect", Timeout: setupTimeout}, false},
		{HugeJWKS, bearer.Config{Authority: fake.URL + "/huge", Timeout: setupTimeout}, false},
		{SlowJWKS, bearer.Config{Authority: fake.URL + "/slow", Timeout: setupTimeout}, false},
		{NoIntrospection, bearer.Config{Authority: e.Authority.Issuer()}, true},
		{DPoPRequired, bearer.Config{Authority: e.Authority.Issuer(), DPoP: bearer.DPoPConfig{Mode: bearer.DPoPRequired}}, true},
		{DPoPDisabled, bearer.Config{Authority: e.Authority.Issuer(), DPoP: bearer.DPoPConfig{Mode: bearer.DPoPDisabled}}, true},
		{DPoPNonces, bearer.Config{Authority: e.Authority.Issuer(), DPoP: bearer.DPoPConfig{NonceSecret: DPoPNonceSecret}}, true},
		{DPoPReplayFull, bearer.Config{Authority: e.Authority.Issuer(), RevocationStore: fullReplays{}}, true},
		{DPoPOrigins, bearer.Config{Authority: e.Authority.Issuer(), DPoP: bearer.DPoPConfig{Origins: []string{PublicOrigin}}}, true},
	} {
		if err := start(su.s, su.cfg, su.wait); err != nil {
			return nil, err
		}
	}
	several, err := bearer.NewMulti(context.Background(), bearer.MultiConfig{Logger: e.logger, Authorities: []bearer.Config{{
		Authority: e.Authority.Issuer(), Audience: []string{"api"}, ClientID: specialClientID, ClientSecret: specialClientSecret, Logger: e.logger,
	}}})
	if err != nil {
		return nil, fmt.Errorf("setup %d: %v", DPoPSeveral, err)
	}
	e.t.Cleanup(func() { several.Close() })
	x.validators[DPoPSeveral] = several
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := several.Ready(ctx); err != nil {
		return nil, fmt.Errorf("setup %d: Ready: %v", DPoPSeveral, err)
	}
	// Ready would wait for the revocations, which never come: wait for
	// the keys alone.
	if err := start(RevocationsUnsynced, bearer.Config{Authority: e.Authority.Issuer(), RevocationStore: silentStore{}, RequireRevocationSync: true}, false); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); !x.validators[RevocationsUnsynced].Status().Ready; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("setup %d: keys not fetched within 10 s", RevocationsUnsynced)
		}
	}
	// The tenant's keys are fetched: now its JWKS endpoint fails, for the
	// Tenant validator and for one that starts only now.
	x.tenant.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	if err := start(ColdJWKSDown, bearer.Config{Authority: x.tenant.Issuer(), Timeout: setupTimeout}, false); err != nil {
		return nil, err
	}
	// Past MaxKeySetAge, once a refresh has failed.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st := x.validators[StaleKeys].Status(); st.LastError != nil && time.Since(st.KeysFetched) > staleKeysAge {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("setup %d: keys not stale within 10 s", StaleKeys)
		}
	}
	return x, nil
}

// silentStore is a RevocationStore that never delivers: one down when a
// replica starts.
type silentStore struct{}

func (silentStore) Revoke(context.Context, bearer.Revocation) error { return nil }
func (silentStore) Subscribe(ctx context.Context, _ func(bearer.Revocation), _ func()) error {
	<-ctx.Done()
	return ctx.Err()
}
func (silentStore) FirstSeen(context.Context, string, time.Time) (bool, error) { return true, nil }

func serveJSON(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
}

// fakeAuthorities serves the broken authorities at base+"/impostor",
// "/redirect", "/huge" and "/slow".
func fakeAuthorities(base, elsewhere string, stop <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	doc := func(name string) http.Handler {
		return serveJSON(fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, base+"/"+name, base+"/"+name+"/jwks"))
	}
	mux.Handle("/impostor/.well-known/openid-configuration", serveJSON(fmt.Sprintf(`{"issuer":"https://impostor.example","jwks_uri":%q}`, base+"/impostor/jwks")))
	mux.Handle("/impostor/jwks", serveJSON(`{"keys":[]}`))
	mux.Handle("/redirect/.well-known/openid-configuration", http.RedirectHandler(elsewhere+"/.well-known/openid-configuration", http.StatusFound))
	mux.Handle("/huge/.well-known/openid-configuration", doc("huge"))
	mux.Handle("/huge/jwks", serveJSON(`{"keys":[],"padding":"`+strings.Repeat("x", 2<<20)+`"}`))
	mux.Handle("/slow/.well-known/openid-configuration", doc("slow"))
	mux.HandleFunc("/slow/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[`))
		w.(http.Flusher).Flush()
		select { // until the client gives up
		case <-r.Context().Done():
		case <-stop:
		}
	})
	return mux
}

// cannedToken returns a token that the Canned setup's introspection
// endpoint answers as name says (see cannedIntrospection). The random
// part keeps every token apart in caches and logs.
func cannedToken(name string) func(*bearertest.Authority) string {
	return func(*bearertest.Authority) string { return "canned~" + name + "~" + rand.Text() }
}

// cannedIntrospection answers introspection requests with the response
// the token names, about a token of issuer for aud "api".
func cannedIntrospection(issuer, elsewhere string, stop <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		parts := strings.Split(r.PostForm.Get("token"), "~")
		name := ""
		if len(parts) == 3 {
			name = parts[1]
		}
		now := time.Now().Unix()
		claims := func(iss, aud string, exp int64) string {
			return fmt.Sprintf(`"sub":"alice","scope":"read","client_id":"client","iss":%q,"aud":%q,"exp":%d`, iss, aud, exp)
		}
		good := claims(issuer, "api", now+3600)
		body := `{"active":false}`
		switch name {
		case "active":
			body = `{"active":true,` + good + `}`
		case "active-string":
			body = `{"active":"true",` + good + `}`
		case "active-number":
			body = `{"active":1,` + good + `}`
		case "active-null":
			body = `{"active":null,` + good + `}`
		case "active-object":
			body = `{"active":{"value":true},` + good + `}`
		case "active-missing":
			body = `{` + good + `}`
		case "active-other-case":
			body = `{"Active":true,` + good + `}`
		case "active-duplicate":
			body = `{"active":false,` + good + `,"active":true}`
		case "expired":
			body = `{"active":true,` + claims(issuer, "api", now-3600) + `}`
		case "other-issuer":
			body = `{"active":true,` + claims("https://evil.example", "api", now+3600) + `}`
		case "other-audience":
			body = `{"active":true,` + claims(issuer, "web", now+3600) + `}`
		case "not-an-object":
			body = `[{"active":true}]`
		case "not-json":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Sign in</body></html>"))
			return
		case "server-error":
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		case "unauthorized":
			w.Header().Set("WWW-Authenticate", `Basic realm="introspection"`)
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		case "redirect":
			http.Redirect(w, r, elsewhere+"/introspect", http.StatusTemporaryRedirect)
			return
		case "slow":
			select { // until the client gives up
			case <-r.Context().Done():
			case <-stop:
			}
			return
		default:
			if answer, ok := reviewAnswers[name]; ok {
				body = answer(issuer, time.Now())
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
}
