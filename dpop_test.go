package bearer_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
)

const apiURL = "https://api.example/values"

// sharedReplays is a RevocationStore two Validators share, as replicas
// share Redis, for the proofs they see; it carries no revocations.
type sharedReplays struct {
	mu   sync.Mutex
	seen map[string]time.Time
	err  error
}

func (*sharedReplays) Revoke(context.Context, bearer.Revocation) error { return nil }

func (*sharedReplays) Subscribe(ctx context.Context, _ func(bearer.Revocation), synced func()) error {
	synced()
	<-ctx.Done()
	return nil
}

func (s *sharedReplays) FirstSeen(_ context.Context, id string, expires time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	if _, ok := s.seen[id]; ok {
		return false, nil
	}
	s.seen[id] = expires
	return true, nil
}

func dpopRequest(key *bearertest.DPoPKey, token string, c bearertest.Payload) bearer.Presentation {
	return bearer.Presentation{Scheme: "DPoP", Token: token, Method: "GET", URL: apiURL,
		DPoP: []string{key.ProofWith("GET", apiURL, token, nil, c)}}
}

// TestValidateRefusesBoundTokens: Validate sees no proof and no
// certificate, so a token bound to either is refused (RFC 9449 §7.2, RFC
// 8705 §3), and an unbound one passes as before.
func TestValidateRefusesBoundTokens(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	key := bearertest.NewDPoPKey("ES256")
	cert := conformance.ClientCertificate().Leaf
	mustFail(t, v, a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()})), bearer.ErrInvalidToken, bearer.ErrBinding)
	mustFail(t, v, a.Token(claims(bearertest.Payload{"cnf": bearertest.CertificateConfirmation(cert)})), bearer.ErrInvalidToken, bearer.ErrBinding)
	mustFail(t, v, a.Token(claims(bearertest.Payload{"cnf": "jkt"})), bearer.ErrInvalidToken, bearer.ErrMalformed)
	mustValid(t, v, a.Token(claims(nil)))
	// The same tokens with what binds them.
	tok := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	if _, err := v.ValidatePresentation(context.Background(), dpopRequest(key, tok, nil)); err != nil {
		t.Errorf("DPoP: %v", err)
	}
	tok = a.Token(claims(bearertest.Payload{"cnf": bearertest.CertificateConfirmation(cert)}))
	if _, err := v.ValidatePresentation(context.Background(), bearer.Presentation{Token: tok, ClientCertificate: cert}); err != nil {
		t.Errorf("certificate: %v", err)
	}
}

// TestDPoPReplayAcrossReplicas: a proof accepted by one replica is a
// replay at another sharing its store, Config.RevocationStore.
func TestDPoPReplayAcrossReplicas(t *testing.T) {
	a := bearertest.New(t)
	store := &sharedReplays{seen: map[string]time.Time{}}
	one := newValidator(t, a, bearer.Config{RevocationStore: store})
	two := newValidator(t, a, bearer.Config{RevocationStore: store})
	key := bearertest.NewDPoPKey("EdDSA")
	tok := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	p := dpopRequest(key, tok, nil)
	if _, err := one.ValidatePresentation(context.Background(), p); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err := two.ValidatePresentation(context.Background(), p)
	if !errors.Is(err, bearer.ErrDPoPProof) {
		t.Fatalf("replay at another replica: %v", err)
	}
	for id := range store.seen {
		if len(id) != len("dpop ")+43 {
			t.Errorf("stored id %q is not a hash", id)
		}
	}
	// Each proof is new: the same token with another proof passes.
	if _, err := two.ValidatePresentation(context.Background(), dpopRequest(key, tok, nil)); err != nil {
		t.Errorf("new proof: %v", err)
	}
}

// TestDPoPReplayStoreDown: without its replay memory the Validator cannot
// tell a replay, so it fails closed with 503, never 401 and never 200.
func TestDPoPReplayStoreDown(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{RevocationStore: &sharedReplays{err: errors.New("store down")}})
	key := bearertest.NewDPoPKey("ES256")
	tok := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	_, err := v.ValidatePresentation(context.Background(), dpopRequest(key, tok, nil))
	if e := bearer.AsError(err); !errors.Is(err, bearer.ErrUnavailable) || e.Status != 503 || e.RetryAfter <= 0 {
		t.Fatalf("store down: %v", err)
	}
}

// TestDPoPNonceAcrossReplicas: a nonce one replica issued is accepted by
// another with the same secret (RFC 9449 §9), and a proof without one is
// use_dpop_nonce with the nonce to use.
func TestDPoPNonceAcrossReplicas(t *testing.T) {
	a := bearertest.New(t)
	secret := []byte("a nonce secret of 32 bytes or more")
	one := newValidator(t, a, bearer.Config{DPoP: bearer.DPoPConfig{NonceSecret: secret}})
	two := newValidator(t, a, bearer.Config{DPoP: bearer.DPoPConfig{NonceSecret: secret}})
	key := bearertest.NewDPoPKey("ES256")
	tok := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	_, err := two.ValidatePresentation(context.Background(), dpopRequest(key, tok, nil))
	e := bearer.AsError(err)
	if !errors.Is(err, bearer.ErrDPoPNonce) || e.Code != "use_dpop_nonce" || e.DPoPNonce == "" {
		t.Fatalf("no nonce: %v (%+v)", err, e)
	}
	if _, err := two.ValidatePresentation(context.Background(), dpopRequest(key, tok, bearertest.Payload{"nonce": one.DPoPNonce()})); err != nil {
		t.Errorf("nonce of another replica: %v", err)
	}
	if _, err := two.ValidatePresentation(context.Background(), dpopRequest(key, tok, bearertest.Payload{"nonce": e.DPoPNonce})); err != nil {
		t.Errorf("nonce of the challenge: %v", err)
	}
}

// TestDPoPProofAlgorithms: every default algorithm's proofs verify, and
// Algorithms narrows them.
func TestDPoPProofAlgorithms(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	es := newValidator(t, a, bearer.Config{DPoP: bearer.DPoPConfig{Algorithms: []string{"ES256"}}})
	for _, alg := range bearer.DefaultDPoPAlgorithms {
		key := bearertest.NewDPoPKey(alg)
		tok := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
		if _, err := v.ValidatePresentation(context.Background(), dpopRequest(key, tok, nil)); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		_, err := es.ValidatePresentation(context.Background(), dpopRequest(key, tok, nil))
		if (alg == "ES256") != (err == nil) {
			t.Errorf("%s with ES256 only: %v", alg, err)
		}
	}
}

// TestNewRefusesDPoPConfig: settings that cannot work are refused, not
// ignored.
func TestNewRefusesDPoPConfig(t *testing.T) {
	for name, d := range map[string]bearer.DPoPConfig{
		"HS256":           {Algorithms: []string{"HS256"}},
		"none":            {Algorithms: []string{"none"}},
		"unknown mode":    {Mode: 7},
		"negative age":    {ProofAge: -time.Second},
		"short secret":    {NonceSecret: []byte("short")},
		"lifetime alone":  {NonceLifetime: time.Minute},
		"negative nonces": {NonceSecret: make([]byte, 32), NonceLifetime: -1},
	} {
		if _, err := bearer.New(context.Background(), bearer.Config{Authority: "https://login.example", Audience: []string{"api"}, DPoP: d}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestDPoPWithSeveralAuthorities: with NewMulti, each authority's
// DPoPConfig rules its tokens, once the token named it.
func TestDPoPWithSeveralAuthorities(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	v := newMulti(t, bearer.MultiConfig{Authorities: []bearer.Config{
		{Authority: a.Issuer(), Audience: []string{"api"}, Logger: quiet, DPoP: bearer.DPoPConfig{Mode: bearer.DPoPRequired}},
		{Authority: b.Issuer(), Audience: []string{"api"}, Logger: quiet, DPoP: bearer.DPoPConfig{Mode: bearer.DPoPDisabled}},
	}})
	key := bearertest.NewDPoPKey("ES256")
	ctx := context.Background()
	plainA, boundA := a.Token(claims(nil)), a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	plainB, boundB := b.Token(claims(nil)), b.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	for range 2 { // validated, then from the shared cache
		mustFail(t, v, plainA, bearer.ErrInvalidToken, bearer.ErrBinding)
		if _, err := v.ValidatePresentation(ctx, dpopRequest(key, boundA, nil)); err != nil {
			t.Errorf("a, DPoP: %v", err)
		}
		mustValid(t, v, plainB)
		if _, err := v.ValidatePresentation(ctx, dpopRequest(key, boundB, nil)); !errors.Is(err, bearer.ErrNoToken) {
			t.Errorf("b, DPoP scheme where it is disabled: %v", err)
		}
	}
}

// TestNewErrorDPoPReasons: adapters build DPoP refusals with NewError and
// get the RFC 9449 codes.
func TestNewErrorDPoPReasons(t *testing.T) {
	for reason, code := range map[error]string{
		bearer.ErrDPoPProof: "invalid_dpop_proof",
		bearer.ErrDPoPNonce: "use_dpop_nonce",
		bearer.ErrBinding:   "invalid_token",
	} {
		e := bearer.NewError(reason, "")
		if e.Status != 401 || e.Code != code || !errors.Is(e, bearer.ErrInvalidToken) || !errors.Is(e, reason) {
			t.Errorf("NewError(%v) = %d %q", reason, e.Status, e.Code)
		}
		if got := e.Challenges("api"); len(got) != 1 || !strings.HasPrefix(got[0], `Bearer realm="api", error="`+code+`"`) {
			t.Errorf("NewError(%v).Challenges = %q", reason, got)
		}
	}
}

// TestBindingBeforeRevocationAndScopes: the stages run in the order of
// the package doc, so a bound token presented without its key is refused
// for its binding, before anything is said of its revocation or of the
// scopes it lacks: whoever presents it has not shown it is theirs.
func TestBindingBeforeRevocationAndScopes(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{RequiredScopes: bearer.AnyOf("admin")})
	key := bearertest.NewDPoPKey("ES256")
	tok := a.Token(bearertest.Payload{"aud": "api", "scope": "read", "sid": "s1", "cnf": key.Confirmation()})
	if err := v.Revoke(context.Background(), bearer.Revocation{SessionID: "s1"}); err != nil {
		t.Fatal(err)
	}
	e := mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrBinding)
	if e.Status != 401 {
		t.Errorf("status %d, want 401", e.Status)
	}
}
