package signals_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/signals"
)

// A CAEP session-revoked event about a session refuses that session's
// tokens, and only them.
func TestPushSessionRevoked(t *testing.T) {
	g := newRig(t, nil)
	g.pushStream(t, "")
	revoked := g.token(bearertest.Payload{"sid": "s1"})
	other := g.token(bearertest.Payload{"sid": "s2"})
	if g.refused(t, revoked) || g.refused(t, other) {
		t.Fatal("tokens refused before any event")
	}
	set := g.transmitter.Event(bearertest.SessionRevoked, session(issSub(g.authority.Issuer(), "alice"), "s1"), nil)
	if err := g.transmitter.Send(set); err != nil {
		t.Fatal(err)
	}
	if !g.refused(t, revoked) {
		t.Error("the revoked session's token is still accepted")
	}
	if g.refused(t, other) {
		t.Error("another session of the same user is refused")
	}
}

// A session-revoked event about a user, without a session, refuses every
// token of the user issued at or before the event; a token issued later
// is accepted.
func TestPushSessionRevokedUser(t *testing.T) {
	g := newRig(t, nil)
	g.pushStream(t, "")
	at := time.Now().Add(-time.Minute)
	before := g.token(bearertest.Payload{"iat": at.Add(-time.Second), "sid": "s1"})
	after := g.token(bearertest.Payload{"iat": at.Add(time.Second)})
	bob := g.token(bearertest.Payload{"sub": "bob", "iat": at.Add(-time.Second)})
	set := g.transmitter.Event(bearertest.SessionRevoked, issSub(g.authority.Issuer(), "alice"), bearertest.Payload{"event_timestamp": at.Unix()})
	if err := g.transmitter.Send(set); err != nil {
		t.Fatal(err)
	}
	if !g.refused(t, before) {
		t.Error("a token issued before the event is accepted")
	}
	if g.refused(t, after) {
		t.Error("a token issued after the event is refused")
	}
	if g.refused(t, bob) {
		t.Error("another user's token is refused")
	}
}

// Each event that concerns a whole account refuses the subject's tokens
// issued at or before it, and no one else's: CAEP credential-change and
// token-claims-change, RISC account-disabled, account-purged and
// sessions-revoked.
func TestPushAccountEvents(t *testing.T) {
	for _, typ := range []string{bearertest.CredentialChange, bearertest.TokenClaimsChange, bearertest.AccountDisabled, bearertest.AccountPurged, bearertest.SessionsRevoked} {
		t.Run(typ[strings.LastIndexByte(typ, '/')+1:], func(t *testing.T) {
			g := newRig(t, nil)
			g.pushStream(t, "")
			at := time.Now().Add(-time.Minute)
			before := g.token(bearertest.Payload{"iat": at.Add(-time.Second), "sid": "s1"})
			after := g.token(bearertest.Payload{"iat": at.Add(time.Second)})
			bob := g.token(bearertest.Payload{"sub": "bob", "iat": at.Add(-time.Second)})
			// RISC puts the subject in the event; the SSF 1.0 form, sub_id,
			// is tested by the other events.
			set := g.transmitter.SET(bearertest.Payload{"events": map[string]any{typ: map[string]any{
				"subject": issSub(g.authority.Issuer(), "alice"), "event_timestamp": at.Unix(),
			}}})
			if status, code := g.pushSET(t, set); status != http.StatusAccepted {
				t.Fatalf("push: %d %s", status, code)
			}
			if !g.refused(t, before) {
				t.Error("a token issued before the event is accepted")
			}
			if g.refused(t, after) {
				t.Error("a token issued after the event is refused")
			}
			if g.refused(t, bob) {
				t.Error("another user's token is refused")
			}
		})
	}
}

// Subjects that name no claim of the API's tokens (an email address, a
// device), events the receiver does not act on, and subjects of another
// authority are acknowledged, and revoke nothing.
func TestPushAcknowledgedWithoutEffect(t *testing.T) {
	g := newRig(t, nil)
	g.pushStream(t, "")
	cases := map[string]string{
		"email subject":     g.transmitter.Event(bearertest.CredentialChange, map[string]any{"format": "email", "email": "alice@example.com"}, nil),
		"unknown format":    g.transmitter.Event(bearertest.CredentialChange, map[string]any{"format": "x-vendor", "id": "alice"}, nil),
		"device only":       g.transmitter.Event(bearertest.SessionRevoked, map[string]any{"format": "complex", "device": map[string]any{"format": "opaque", "id": "d1"}}, nil),
		"other session fmt": g.transmitter.Event(bearertest.SessionRevoked, map[string]any{"format": "complex", "user": issSub(g.authority.Issuer(), "alice"), "session": map[string]any{"format": "x-vendor", "x": 1}}, nil),
		"other authority":   g.transmitter.Event(bearertest.CredentialChange, issSub("https://other.example.com", "alice"), nil),
		"unknown event":     g.transmitter.Event("https://schemas.openid.net/secevent/caep/event-type/device-compliance-change", issSub(g.authority.Issuer(), "alice"), nil),
		"stream updated":    g.transmitter.Event("https://schemas.openid.net/secevent/ssf/event-type/stream-updated", map[string]any{"format": "opaque", "id": "stream"}, bearertest.Payload{"status": "enabled"}),
	}
	for name, set := range cases {
		if status, code := g.pushSET(t, set); status != http.StatusAccepted {
			t.Errorf("%s: %d %s, want 202", name, status, code)
		}
	}
	if n := g.v.Status().Revocations; n != 0 {
		t.Errorf("%d revocations made", n)
	}
	if w := g.logs.warnings(); len(w) > 0 {
		t.Errorf("warnings logged: %q", w)
	}
}

// Bad SETs are refused with RFC 8935's error codes, revoke nothing, and
// log nothing at Warn: anyone can post them.
func TestPushRefusals(t *testing.T) {
	g := newRig(t, func(c *signals.Config) { c.MaxAge = time.Hour })
	g.pushStream(t, "")
	tr := g.transmitter
	alice := issSub(g.authority.Issuer(), "alice")
	events := map[string]any{bearertest.CredentialChange: map[string]any{}}
	good := bearertest.Payload{"sub_id": alice, "events": events}
	with := func(k string, v any) bearertest.Payload {
		p := bearertest.Payload{}
		for name, x := range good {
			p[name] = x
		}
		p[k] = v
		return p
	}
	// Signed by the API's authority, whose keys the transmitter does not
	// publish.
	foreign := g.authority.TokenWith("ES256", map[string]any{"typ": "secevent+jwt"}, bearertest.Payload{
		"iss": tr.Issuer(), "aud": tr.Audience(), "jti": "x", "sub_id": alice, "events": events, "exp": nil, "sub": nil, "client_id": nil,
	})
	cases := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"not a JWT", "application/secevent+jwt", "garbage", 400, "invalid_request"},
		{"empty", "application/secevent+jwt", "", 400, "invalid_request"},
		{"form", "application/x-www-form-urlencoded", tr.SET(good), 400, "invalid_request"},
		{"typ at+jwt", "application/secevent+jwt", tr.SETWith(map[string]any{"typ": "at+jwt"}, good), 400, "invalid_request"},
		{"no typ", "application/secevent+jwt", tr.SETWith(map[string]any{"typ": nil}, good), 400, "invalid_request"},
		{"alg none", "application/secevent+jwt", unsigned(tr.SET(good)), 400, "invalid_request"},
		{"bad signature", "application/secevent+jwt", tr.SET(good)[:len(tr.SET(good))-4] + "AAAA", 400, "invalid_key"},
		{"unknown key", "application/secevent+jwt", foreign, 400, "invalid_key"},
		{"wrong aud", "application/secevent+jwt", tr.SET(with("aud", "someone-else")), 400, "invalid_audience"},
		{"no aud", "application/secevent+jwt", tr.SET(with("aud", nil)), 400, "invalid_audience"},
		{"wrong iss", "application/secevent+jwt", tr.SET(with("iss", "https://evil.example.com")), 400, "invalid_issuer"},
		{"no jti", "application/secevent+jwt", tr.SET(with("jti", nil)), 400, "invalid_request"},
		{"no iat", "application/secevent+jwt", tr.SET(with("iat", nil)), 400, "invalid_request"},
		{"iat ahead", "application/secevent+jwt", tr.SET(with("iat", time.Now().Add(time.Hour).Unix())), 400, "invalid_request"},
		{"iat too old", "application/secevent+jwt", tr.SET(with("iat", time.Now().Add(-2*time.Hour).Unix())), 400, "invalid_request"},
		{"no events", "application/secevent+jwt", tr.SET(with("events", nil)), 400, "invalid_request"},
		{"event not object", "application/secevent+jwt", tr.SET(with("events", map[string]any{bearertest.CredentialChange: "x"})), 400, "invalid_request"},
		{"no subject", "application/secevent+jwt", tr.SET(with("sub_id", nil)), 400, "invalid_request"},
		{"subject without format", "application/secevent+jwt", tr.SET(with("sub_id", map[string]any{"sub": "alice"})), 400, "invalid_request"},
		{"iss_sub without sub", "application/secevent+jwt", tr.SET(with("sub_id", map[string]any{"format": "iss_sub", "iss": g.authority.Issuer()})), 400, "invalid_request"},
		{"one malformed event of two", "application/secevent+jwt", tr.SET(bearertest.Payload{"events": map[string]any{
			bearertest.CredentialChange: map[string]any{"subject": alice},
			bearertest.AccountDisabled:  map[string]any{"subject": map[string]any{"format": "iss_sub"}},
		}}), 400, "invalid_request"},
		{"duplicate member", "application/secevent+jwt", duplicated(tr, g.authority.Issuer()), 400, "invalid_request"},
		{"1 MiB body", "application/secevent+jwt", strings.Repeat("a", 1<<20), 400, "invalid_request"},
	}
	for _, c := range cases {
		status, code := post(t, g.push.URL, c.contentType, "", strings.NewReader(c.body))
		if status != c.status || code != c.code {
			t.Errorf("%s: %d %q, want %d %q", c.name, status, code, c.status, c.code)
		}
	}
	if n := g.v.Status().Revocations; n != 0 {
		t.Errorf("%d revocations made", n)
	}
	if w := g.logs.warnings(); len(w) > 0 {
		t.Errorf("warnings logged: %q", w)
	}
}

// unsigned turns a SET into one with alg none and no signature.
func unsigned(set string) string {
	parts := strings.Split(set, ".")
	return b64(`{"alg":"none","typ":"secevent+jwt"}`) + "." + parts[1] + "."
}

// duplicated is a SET that names aud twice, with the receiver's audience
// second, as encoding/json alone would accept it.
func duplicated(tr *bearertest.Transmitter, iss string) string {
	set := tr.SET(bearertest.Payload{"aud": "someone-else", "sub_id": issSub(iss, "alice"), "events": map[string]any{bearertest.CredentialChange: map[string]any{}}})
	parts := strings.Split(set, ".")
	payload := decode(parts[1])
	payload = strings.Replace(payload, `"aud":"someone-else"`, `"aud":"someone-else","aud":"`+tr.Audience()+`"`, 1)
	header := decode(parts[0])
	return tr.Sign([]byte(header), []byte(payload))
}

// A push without the Authorization the stream was given gets 401
// authentication_failed; with it, 202.
func TestPushAuthorization(t *testing.T) {
	g := newRig(t, func(c *signals.Config) { c.PushAuthorization = "Bearer s3cret" })
	set := g.transmitter.Event(bearertest.CredentialChange, issSub(g.authority.Issuer(), "alice"), nil)
	for _, auth := range []string{"", "Bearer wrong"} {
		if status, code := post(t, g.push.URL, "application/secevent+jwt", auth, strings.NewReader(set)); status != http.StatusUnauthorized || code != "authentication_failed" {
			t.Errorf("Authorization %q: %d %q, want 401 authentication_failed", auth, status, code)
		}
	}
	if n := g.v.Status().Revocations; n != 0 {
		t.Fatalf("%d revocations made by unauthenticated pushes", n)
	}
	g.pushStream(t, "Bearer s3cret")
	if err := g.transmitter.Send(set); err != nil {
		t.Fatal(err)
	}
	if n := g.v.Status().Revocations; n != 1 {
		t.Errorf("%d revocations, want 1", n)
	}
}

// A SET delivered twice is acknowledged both times, and its jti is
// recorded once: a receiver sharing the store with this one sees it as
// seen.
func TestPushDuplicate(t *testing.T) {
	store := &countingStore{}
	g := newRig(t, func(c *signals.Config) { c.Store = store })
	g.pushStream(t, "")
	set := g.transmitter.Event(bearertest.SessionRevoked, session(nil, "s1"), nil)
	for range 2 {
		if status, code := g.pushSET(t, set); status != http.StatusAccepted {
			t.Fatalf("push: %d %s", status, code)
		}
	}
	if store.first != 1 || store.again != 1 {
		t.Errorf("FirstSeen: %d first, %d again; want 1 and 1", store.first, store.again)
	}
	if n := g.v.Status().Revocations; n != 1 {
		t.Errorf("%d revocations, want 1", n)
	}
}

// When the store cannot record a jti, or the transmitter's keys cannot be
// fetched, the push gets 503 with Retry-After, so that the transmitter
// delivers it again; the revocation holds on this replica meanwhile.
func TestPushUnavailable(t *testing.T) {
	store := &countingStore{fail: true}
	g := newRig(t, func(c *signals.Config) { c.Store = store })
	g.pushStream(t, "")
	token := g.token(bearertest.Payload{"sid": "s1"})
	set := g.transmitter.Event(bearertest.SessionRevoked, session(nil, "s1"), nil)
	resp, err := g.transmitter.Push(g.push.URL, "", set)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("store down: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !g.refused(t, token) {
		t.Error("the revocation does not hold on the replica that received it")
	}

	// A receiver whose transmitter is gone.
	tr := bearertest.NewTransmitter("")
	r, err := signals.New(context.Background(), signals.Config{Transmitter: tr.Issuer(), Audience: tr.Audience(), Validator: g.v, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	set = tr.Event(bearertest.SessionRevoked, session(nil, "s2"), nil)
	tr.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(set))
	req.Header.Set("Content-Type", "application/secevent+jwt")
	r.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("transmitter down: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// A Receiver's push endpoint answers 405 to anything but POST.
func TestPushMethod(t *testing.T) {
	g := newRig(t, nil)
	resp, err := http.Get(g.push.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// New refuses a Config without what it needs.
func TestNewRefuses(t *testing.T) {
	v, err := bearer.New(context.Background(), bearer.Config{Authority: "https://login.example.com", Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for name, cfg := range map[string]signals.Config{
		"no validator":   {Transmitter: "https://tr.example.com", Audience: "a"},
		"no audience":    {Transmitter: "https://tr.example.com", Validator: v},
		"no transmitter": {Audience: "a", Validator: v},
		"bad jwks":       {Transmitter: "https://tr.example.com", Audience: "a", Validator: v, JWKSURL: "jwks"},
		"negative age":   {Transmitter: "https://tr.example.com", Audience: "a", Validator: v, MaxAge: -1},
	} {
		if r, err := signals.New(context.Background(), cfg); err == nil {
			r.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}
