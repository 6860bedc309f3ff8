package signals_test

import (
	"context"
	"encoding/base64"
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
	"github.com/accesstoken/bearer/signals"
)

// rig is an API guarded by a Validator of authority's tokens, a
// transmitter, and a receiver applying the transmitter's SETs to the
// Validator, mounted at push.
type rig struct {
	authority   *bearertest.Authority
	transmitter *bearertest.Transmitter
	v           *bearer.Validator
	r           *signals.Receiver
	push        *httptest.Server
	logs        *levels
}

// newRig starts a rig; edit changes the receiver's Config before New.
func newRig(t *testing.T, edit func(*signals.Config)) *rig {
	t.Helper()
	g := &rig{authority: bearertest.New(t), transmitter: bearertest.StartTransmitter(t), logs: &levels{}}
	log := slog.New(g.logs)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: g.authority.Issuer(), Audience: []string{"api"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	g.v = v
	cfg := signals.Config{
		Transmitter: g.transmitter.Issuer(),
		Audience:    g.transmitter.Audience(),
		Validator:   v,
		Issuer:      g.authority.Issuer(),
		Timeout:     5 * time.Second,
		Logger:      log,
	}
	if edit != nil {
		edit(&cfg)
	}
	r, err := signals.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	g.r = r
	g.push = httptest.NewServer(r)
	t.Cleanup(g.push.Close)
	return g
}

// pushStream creates a push stream to the rig's receiver.
func (g *rig) pushStream(t *testing.T, auth string) *signals.Stream {
	t.Helper()
	s, err := g.r.CreateStream(context.Background(), signals.Stream{
		Delivery: &signals.Delivery{Method: signals.DeliveryPush, EndpointURL: g.push.URL, AuthorizationHeader: auth},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// token mints an access token of the rig's authority for the API.
func (g *rig) token(c bearertest.Payload) string {
	p := bearertest.Payload{"aud": "api"}
	for k, v := range c {
		p[k] = v
	}
	return g.authority.Token(p)
}

// refused reports whether the Validator refuses token as revoked; it
// fails the test if the token is refused for another reason.
func (g *rig) refused(t *testing.T, token string) bool {
	t.Helper()
	_, err := g.v.Validate(context.Background(), token)
	if err != nil && !errors.Is(err, bearer.ErrRevoked) {
		t.Fatalf("token refused for another reason than a revocation: %v", err)
	}
	return err != nil
}

// post pushes body as a SET and returns the status and the RFC 8935 error
// code.
func post(t *testing.T, url, contentType, auth string, body io.Reader) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Err         string `json:"err"`
		Description string `json:"description"`
	}
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 {
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("error body %q is not JSON: %v", data, err)
		}
		if e.Description == "" {
			t.Errorf("error %q without a description", e.Err)
		}
	}
	return resp.StatusCode, e.Err
}

// pushSET pushes set to the rig's receiver.
func (g *rig) pushSET(t *testing.T, set string) (int, string) {
	t.Helper()
	return post(t, g.push.URL, "application/secevent+jwt", "", strings.NewReader(set))
}

// eventually waits for cond, up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// levels is a slog.Handler that counts the records at Warn and above.
type levels struct {
	mu    sync.Mutex
	warns []string
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		l.mu.Lock()
		l.warns = append(l.warns, r.Message)
		l.mu.Unlock()
	}
	return nil
}
func (l *levels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levels) WithGroup(string) slog.Handler      { return l }

func (l *levels) warnings() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.warns...)
}

// issSub is an iss_sub subject identifier (RFC 9493 §3.2.5).
func issSub(iss, sub string) map[string]any {
	return map[string]any{"format": "iss_sub", "iss": iss, "sub": sub}
}

// session is a complex subject naming a session by its sid (SSF 1.0 §3.2).
func session(user map[string]any, sid string) map[string]any {
	s := map[string]any{"format": "complex", "session": map[string]any{"format": "opaque", "id": sid}}
	if user != nil {
		s["user"] = user
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decode(seg string) string {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// countingStore is a RevocationStore that counts FirstSeen's answers, and
// fails every call when fail is set: a store that is down.
type countingStore struct {
	mu           sync.Mutex
	fail         bool
	seen         map[string]bool
	first, again int
}

var errDown = errors.New("store down")

func (s *countingStore) Revoke(context.Context, bearer.Revocation) error {
	if s.fail {
		return errDown
	}
	return nil
}

func (s *countingStore) Subscribe(ctx context.Context, _ func(bearer.Revocation), synced func()) error {
	synced()
	<-ctx.Done()
	return nil
}

func (s *countingStore) FirstSeen(_ context.Context, id string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return false, errDown
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if s.seen[id] {
		s.again++
		return false, nil
	}
	s.seen[id] = true
	s.first++
	return true, nil
}
