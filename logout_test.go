package bearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// logoutConfig is cfg for an API registered at the authority as its
// client bearertest.DefaultClientID, with introspection on (ModeAuto).
func logoutConfig(cfg bearer.Config) bearer.Config {
	cfg.ClientID, cfg.ClientSecret = bearertest.DefaultClientID, bearertest.DefaultClientSecret
	return cfg
}

// logoutURL serves v's logout endpoint until the test ends.
func logoutURL(t *testing.T, v *bearer.Validator) string {
	t.Helper()
	srv := httptest.NewServer(v.LogoutHandler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// postLogout posts a logout token and returns the status and body.
func postLogout(t *testing.T, a *bearertest.Authority, url, token string) (int, string) {
	t.Helper()
	resp, err := a.PostLogout(url, token)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func mustLogout(t *testing.T, a *bearertest.Authority, url, token string) {
	t.Helper()
	if status, body := postLogout(t, a, url, token); status != http.StatusOK {
		t.Fatalf("logout: %d %s", status, body)
	}
}

// TestLogoutRevokesSession: a logout token naming a session revokes its
// tokens wherever their validation comes from, and only them.
func TestLogoutRevokesSession(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, logoutConfig(bearer.Config{}))
	url := logoutURL(t, v)
	session := bearertest.Payload{"sid": "s-1"}

	cached := a.Token(claims(session))
	mustValid(t, v, cached)
	introspected := a.ReferenceToken(claims(session))
	mustValid(t, v, introspected)
	otherSession := a.Token(claims(bearertest.Payload{"sid": "s-2"}))
	mustValid(t, v, otherSession)
	calls := a.Hits(bearertest.Introspection)

	mustLogout(t, a, url, a.LogoutToken(bearertest.Payload{"sid": "s-1", "sub": "alice"}))

	before := v.Status()
	e := mustFail(t, v, cached, bearer.ErrInvalidToken, bearer.ErrRevoked)
	if e.Status != http.StatusUnauthorized || e.Code != "invalid_token" || e.Description != "token revoked" {
		t.Errorf("revoked: %d %q %q", e.Status, e.Code, e.Description)
	}
	if after := v.Status(); after.CacheHits != before.CacheHits+1 {
		t.Errorf("the revoked JWT was not served from the cache: %+v, then %+v", before, after)
	}
	// Never validated before: a fresh validation.
	mustFail(t, v, a.Token(claims(session)), bearer.ErrInvalidToken, bearer.ErrRevoked)
	if after := v.Status(); after.CacheMisses != before.CacheMisses+1 {
		t.Errorf("the new JWT was not validated in full: %+v, then %+v", before, after)
	}

	// The cached answer is refused, then forgotten: the authority is asked again.
	mustFail(t, v, introspected, bearer.ErrInvalidToken, bearer.ErrRevoked)
	if n := a.Hits(bearertest.Introspection); n != calls {
		t.Errorf("%d introspection calls, want %d: the answer came from the cache", n, calls)
	}
	mustFail(t, v, introspected, bearer.ErrInvalidToken, bearer.ErrRevoked)
	if n := a.Hits(bearertest.Introspection); n != calls+1 {
		t.Errorf("%d introspection calls, want %d: the revoked token's answer was not evicted", n, calls+1)
	}

	mustValid(t, v, otherSession)
	// alice's tokens of other sessions stay, and so does bob.
	mustValid(t, v, a.Token(claims(bearertest.Payload{"sid": "s-3"})))
	mustValid(t, v, a.Token(claims(bearertest.Payload{"sub": "bob"})))
}

// TestLogoutSubjectRules: tokens without sid fall to the logout token's
// sub and iat, unless SessionOnlyLogout; a logout token without sid signs
// the subject out of every session.
func TestLogoutSubjectRules(t *testing.T) {
	a := bearertest.New(t)
	earlier := time.Now().Add(-time.Hour)
	later := time.Now().Add(30 * time.Second) // within Leeway, so valid
	logoutAt := time.Now()
	noSid := func(iat any) string { return a.Token(claims(bearertest.Payload{"iat": iat})) }

	t.Run("sid and sub", func(t *testing.T) {
		v := newValidator(t, a, logoutConfig(bearer.Config{}))
		mustLogout(t, a, logoutURL(t, v), a.LogoutToken(bearertest.Payload{"sid": "s-1", "iat": logoutAt}))
		mustFail(t, v, noSid(earlier), bearer.ErrInvalidToken, bearer.ErrRevoked)
		mustFail(t, v, noSid(nil), bearer.ErrInvalidToken, bearer.ErrRevoked) // no iat: not shown to be later
		mustValid(t, v, noSid(later))
		mustValid(t, v, a.Token(claims(bearertest.Payload{"sid": "s-2", "iat": earlier})))
	})
	t.Run("SessionOnlyLogout", func(t *testing.T) {
		v := newValidator(t, a, logoutConfig(bearer.Config{SessionOnlyLogout: true}))
		mustLogout(t, a, logoutURL(t, v), a.LogoutToken(bearertest.Payload{"sid": "s-1", "iat": logoutAt}))
		mustValid(t, v, noSid(earlier))
		mustFail(t, v, a.Token(claims(bearertest.Payload{"sid": "s-1"})), bearer.ErrInvalidToken, bearer.ErrRevoked)
	})
	t.Run("sub only", func(t *testing.T) {
		v := newValidator(t, a, logoutConfig(bearer.Config{SessionOnlyLogout: true}))
		mustLogout(t, a, logoutURL(t, v), a.LogoutToken(bearertest.Payload{"iat": logoutAt}))
		mustFail(t, v, noSid(earlier), bearer.ErrInvalidToken, bearer.ErrRevoked)
		mustFail(t, v, a.Token(claims(bearertest.Payload{"sid": "s-9", "iat": earlier})), bearer.ErrInvalidToken, bearer.ErrRevoked)
		mustValid(t, v, noSid(later))
		mustValid(t, v, a.Token(claims(bearertest.Payload{"sub": "bob", "iat": earlier})))
	})
}

// TestLogoutTokenIsNotAnAccessToken: the API refuses a logout token
// presented as an access token, with or without typ.
func TestLogoutTokenIsNotAnAccessToken(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, logoutConfig(bearer.Config{}))
	mustFail(t, v, a.LogoutToken(bearertest.Payload{"aud": "api"}), bearer.ErrInvalidToken, bearer.ErrTokenType)
	mustFail(t, v, a.LogoutTokenWith("RS256", map[string]any{"typ": nil}, bearertest.Payload{"aud": "api"}), bearer.ErrInvalidToken, bearer.ErrTokenType)
}

// TestLogoutRefusedRevokesNothing: a refused logout token leaves every
// token valid, and a replayed one is refused.
func TestLogoutRefusedRevokesNothing(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, logoutConfig(bearer.Config{}))
	url := logoutURL(t, v)
	tok := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	for _, bad := range []string{
		a.LogoutToken(bearertest.Payload{"sid": "s-1", "aud": "other-client"}),
		a.LogoutToken(bearertest.Payload{"sid": "s-1", "events": nil}),
		a.LogoutTokenWith("RS256", map[string]any{"typ": "at+jwt"}, bearertest.Payload{"sid": "s-1"}),
	} {
		if status, _ := postLogout(t, a, url, bad); status != http.StatusBadRequest {
			t.Errorf("bad logout token: %d, want 400", status)
		}
	}
	mustValid(t, v, tok)

	lt := a.LogoutToken(bearertest.Payload{"sid": "s-1"})
	mustLogout(t, a, url, lt)
	status, body := postLogout(t, a, url, lt)
	if status != http.StatusBadRequest || !strings.Contains(body, `"logout token replayed"`) {
		t.Errorf("replay: %d %s", status, body)
	}
}

// TestLogoutKeyRotation: a logout token signed with a key published after
// the Validator's last fetch makes it fetch the key set once, as access
// tokens do, and is accepted.
func TestLogoutKeyRotation(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, logoutConfig(bearer.Config{}))
	url := logoutURL(t, v)
	fetches := a.Hits(bearertest.JWKS)
	a.RotateKey("RS256")
	mustLogout(t, a, url, a.LogoutToken(bearertest.Payload{"sid": "s-1"}))
	mustLogout(t, a, url, a.LogoutToken(bearertest.Payload{"sid": "s-2"}))
	if n := a.Hits(bearertest.JWKS); n != fetches+1 {
		t.Errorf("%d JWKS fetches, want %d", n, fetches+1)
	}
}

// TestLogoutAuthorityDown: a logout token that cannot be verified because
// the authority's keys cannot be had is a 503, not a 400 that blames it.
func TestLogoutAuthorityDown(t *testing.T) {
	a := bearertest.New(t)
	lt := a.LogoutToken(nil)
	a.SetDown(true) // before New, whose discovery starts at once
	v, err := bearer.New(t.Context(), logoutConfig(bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Timeout: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	resp, err := a.PostLogout(logoutURL(t, v), lt)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("%d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestLogoutWithoutClientID: without Config.ClientID nothing can name this
// API as the audience; every logout token is refused, which New's caller
// hears of in an error log.
func TestLogoutWithoutClientID(t *testing.T) {
	a := bearertest.New(t)
	var logs logBuffer
	v := newValidator(t, a, bearer.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	url := logoutURL(t, v)
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("no error logged: %s", logs.String())
	}
	status, body := postLogout(t, a, url, a.LogoutToken(nil))
	if status != http.StatusBadRequest || !strings.Contains(body, "audience mismatch") {
		t.Errorf("%d %s", status, body)
	}
}

// TestLogoutLogsNoToken: at debug level, neither an accepted nor a
// refused logout token leaves a piece of itself in the logs.
func TestLogoutLogsNoToken(t *testing.T) {
	a := bearertest.New(t)
	var logs logBuffer
	v := newValidator(t, a, logoutConfig(bearer.Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	url := logoutURL(t, v)
	tokens := []string{
		a.LogoutToken(bearertest.Payload{"sid": "s-1"}),
		a.LogoutToken(bearertest.Payload{"aud": "other"}),
		a.LogoutToken(bearertest.Payload{"nonce": "n"}),
		a.LogoutTokenWith("RS256", map[string]any{"kid": "unknown"}, nil),
	}
	for _, tok := range tokens {
		postLogout(t, a, url, tok)
	}
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "level=INFO") {
		t.Errorf("expected the logout at info and refusals at warn:\n%s", out)
	}
	for _, tok := range tokens {
		for i := 0; i+20 <= len(tok); i++ {
			if strings.Contains(out, tok[i:i+20]) {
				t.Fatalf("logs hold %q of a logout token:\n%s", tok[i:i+20], out)
			}
		}
	}
}

// TestIssue26_GarbageLogoutsLoggedAsARun: 1 000 POSTs of logout tokens
// that no key of the authority verifies make one warning, naming the
// first refusal, and one more per minute at most; a verified token
// refused, and a store failure, are still a warning each.
func TestIssue26_GarbageLogoutsLoggedAsARun(t *testing.T) {
	a := bearertest.New(t)
	var logs logBuffer
	store := &lossyStore{seen: map[string]bool{}} // fails its first replay check
	v := newValidator(t, a, logoutConfig(bearer.Config{Logger: logs.logger(), RevocationStore: store}))
	url := logoutURL(t, v)
	forged := func(c bearertest.Payload) string {
		real, other := strings.Split(a.LogoutToken(nil), "."), strings.Split(a.LogoutToken(c), ".")
		return other[0] + "." + other[1] + "." + real[2]
	}
	garbage := []string{
		"2YotnFZFEjr1zCsicMWpAA",
		forged(bearertest.Payload{"sub": "mallory"}),
		a.LogoutTokenWith("RS256", map[string]any{"typ": "at+jwt"}, nil),
		a.LogoutTokenWith("RS256", map[string]any{"alg": "none"}, nil),
	}
	start := time.Now()
	for i := range 1000 {
		if status, body := postLogout(t, a, url, garbage[i%len(garbage)]); status != http.StatusBadRequest {
			t.Fatalf("garbage %d: %d %s", i, status, body)
		}
	}
	warnings := strings.Count(logs.String(), "level=WARN")
	if limit := 1 + int(time.Since(start)/time.Minute); warnings < 1 || warnings > limit {
		t.Errorf("1000 unverified logout tokens made %d warnings, want 1 to %d:\n%s", warnings, limit, logs.String())
	}
	if !strings.Contains(logs.String(), "malformed token") || !strings.Contains(logs.String(), "refused=1") {
		t.Errorf("the first warning does not name the refusal and its count:\n%s", logs.String())
	}

	for _, verified := range []string{
		a.LogoutToken(bearertest.Payload{"sid": "s-1"}), // the store fails
		a.LogoutToken(bearertest.Payload{"aud": "another-client"}),
		a.LogoutToken(bearertest.Payload{"sid": "s-1", "nonce": "n"}),
	} {
		before := strings.Count(logs.String(), "level=WARN")
		postLogout(t, a, url, verified)
		if after := strings.Count(logs.String(), "level=WARN"); after != before+1 {
			t.Errorf("a verified logout token refused made %d warnings, want 1:\n%s", after-before, logs.String())
		}
	}
}

// TestLogoutResponse: 200 with Cache-Control no-store and no body; a
// refusal is the JSON error of §2.8.
func TestLogoutResponse(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, logoutConfig(bearer.Config{}))
	url := logoutURL(t, v)
	resp, err := a.PostLogout(url, a.LogoutToken(nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || len(body) != 0 {
		t.Errorf("%d %v %q", resp.StatusCode, resp.Header, body)
	}

	resp, err = http.Post(url, "application/x-www-form-urlencoded", strings.NewReader("logout_token=x.y.z"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || e.Error != "invalid_request" || e.Description != "malformed token" ||
		resp.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%d %v %+v", resp.StatusCode, resp.Header, e)
	}
}

// lossyStore records a logout token's jti and then fails to say so once,
// as a store does whose answer times out after it wrote.
type lossyStore struct {
	mu      sync.Mutex
	seen    map[string]bool
	failed  bool
	revoked []bearer.Revocation
}

func (s *lossyStore) Revoke(_ context.Context, r bearer.Revocation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = append(s.revoked, r)
	return nil
}

func (s *lossyStore) Subscribe(ctx context.Context, _ func(bearer.Revocation), synced func()) error {
	synced()
	<-ctx.Done()
	return ctx.Err()
}

func (s *lossyStore) FirstSeen(_ context.Context, id string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.seen[id]
	s.seen[id] = true
	if !s.failed {
		s.failed = true
		return false, errors.New("i/o timeout")
	}
	return first, nil
}

// TestLogoutRetriedAfterLostReplayCheck: a logout whose replay check
// failed after the store recorded the jti answers 503, and its
// revocations hold and are published anyway, so the authority's retry,
// refused as a replay, loses nothing.
func TestLogoutRetriedAfterLostReplayCheck(t *testing.T) {
	a := bearertest.New(t)
	store := &lossyStore{seen: map[string]bool{}}
	v := newValidator(t, a, logoutConfig(bearer.Config{RevocationStore: store, Logger: slog.New(slog.DiscardHandler)}))
	tok := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	mustValid(t, v, tok)
	url := logoutURL(t, v)
	lt := a.LogoutToken(bearertest.Payload{"sid": "s-1"})
	if status, body := postLogout(t, a, url, lt); status != http.StatusServiceUnavailable {
		t.Fatalf("logout with the replay check lost: %d %s, want 503", status, body)
	}
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrRevoked)
	if status, _ := postLogout(t, a, url, lt); status != http.StatusBadRequest {
		t.Errorf("the retry: %d, want 400 (a replay)", status)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.revoked) == 0 || store.revoked[0].SessionID != "s-1" {
		t.Errorf("published %+v, want the session's revocation", store.revoked)
	}
}
