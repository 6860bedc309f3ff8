package bearertest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Security event types a Transmitter supports (CAEP 1.0, RISC 1.0, SSF
// 1.0), for Event.
const (
	SessionRevoked    = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	CredentialChange  = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	TokenClaimsChange = "https://schemas.openid.net/secevent/caep/event-type/token-claims-change"
	AssuranceChange   = "https://schemas.openid.net/secevent/caep/event-type/assurance-level-change"
	AccountDisabled   = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	AccountPurged     = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
	SessionsRevoked   = "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"
	verificationEvent = "https://schemas.openid.net/secevent/ssf/event-type/verification"
)

// pollHold is how long a long poll with nothing to deliver is held.
const pollHold = 5 * time.Second

// Transmitter is a test OpenID Shared Signals transmitter (SSF 1.0) on a
// loopback address: it publishes /.well-known/ssf-configuration and its
// keys (one ES256 key), lets a receiver create, read, update and delete
// streams and ask for verification events, mints Security Event Tokens
// (RFC 8417) and delivers them by push (RFC 8935) or poll (RFC 8936), as
// each stream asks. A SET queued for a poll stream stays queued until it
// is acknowledged, across Restart, as a real transmitter keeps its queue
// in storage. It has no access control. All its methods are safe for
// concurrent use.
type Transmitter struct {
	// URL is the base URL, http://127.0.0.1:port, and the issuer.
	URL string

	key  *signingKey
	addr string

	mu      sync.Mutex
	srv     *http.Server
	ln      net.Listener  // srv's: closed here, so that Restart can listen again at once
	stop    chan struct{} // closed when the current server stops
	streams map[string]*txStream
	order   []string // stream ids, in creation order
	closed  bool
}

// txStream is one stream and, for poll, its queue.
type txStream struct {
	config  map[string]any // as the receiver sees it
	method  string
	push    string        // endpoint_url of a push stream
	auth    string        // its authorization_header
	queue   []queued      // poll: not yet acknowledged, oldest first
	arrived chan struct{} // poll: closed and replaced when a SET is queued
	refused map[string]string
}

type queued struct{ jti, set string }

// NewTransmitter starts a transmitter on 127.0.0.1 (at addr, a loopback
// IP and port, if not empty) and returns it; the caller must Close it. It
// panics if it cannot start, like httptest.NewServer.
func NewTransmitter(addr string) *Transmitter {
	priv, err := generateKey("ES256")
	if err == nil {
		var k *signingKey
		if k, err = newSigningKey("ES256", priv); err == nil {
			t := &Transmitter{key: k, addr: addr, streams: make(map[string]*txStream)}
			if err = t.start(); err == nil {
				return t
			}
		}
	}
	panic("bearertest: " + err.Error())
}

// StartTransmitter is NewTransmitter for tests, on a random port: it fails
// tb instead of panicking and registers Close with tb.Cleanup.
func StartTransmitter(tb testing.TB) *Transmitter {
	tb.Helper()
	t := NewTransmitter("")
	tb.Cleanup(t.Close)
	return t
}

func (t *Transmitter) start() error {
	addr := t.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := listenLoopback(addr)
	if err != nil {
		return err
	}
	if t.URL == "" { // set once: Restart keeps it, and readers take no lock
		t.addr = l.Addr().String()
		t.URL = "http://" + t.addr
	}
	t.srv = &http.Server{Handler: http.HandlerFunc(t.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	// No connection outlives its request: a client's idle keep-alive
	// connection that Restart closed would be the next request's EOF (a
	// POST is not retried), and the client may reuse it before it sees it
	// closed.
	t.srv.SetKeepAlivesEnabled(false)
	t.ln = l
	t.stop = make(chan struct{})
	go t.srv.Serve(l)
	return nil
}

// Close stops the transmitter, cutting its long polls short.
func (t *Transmitter) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	t.halt()
}

// halt stops the current server: its long polls, its listener (at once,
// even if Serve has not started yet) and its connections.
func (t *Transmitter) halt() {
	close(t.stop)
	t.ln.Close()
	t.srv.Close()
}

// Restart stops the transmitter, as a crash would (its connections cut,
// its long polls unanswered), and starts it again at the same URL with
// the same keys, streams and queued SETs. A request made after Restart
// returns is answered: the transmitter keeps no idle connection that a
// client could reuse.
func (t *Transmitter) Restart() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errors.New("bearertest: Restart of a closed Transmitter")
	}
	t.halt()
	if err := t.start(); err != nil {
		t.closed = true
		return err
	}
	return nil
}

// Issuer returns the transmitter's issuer, its URL.
func (t *Transmitter) Issuer() string { return t.URL }

// Audience returns the aud of every stream the transmitter creates, and of
// the SETs it mints: its receiver's name, as the transmitter knows it.
func (t *Transmitter) Audience() string { return t.URL + "/receiver" }

// JWKSURL returns the jwks_uri the metadata names.
func (t *Transmitter) JWKSURL() string { return t.URL + "/jwks" }

// Event mints a SET of one event of type typ (SessionRevoked, …) about
// subject, a subject identifier (RFC 9493), such as
// {"format": "iss_sub", "iss": …, "sub": "alice"} or, for a session,
// {"format": "complex", "session": {"format": "opaque", "id": sid}}. The
// event's payload is event (nil: {}) with event_timestamp now unless it
// sets one. See SET for the rest.
func (t *Transmitter) Event(typ string, subject map[string]any, event Payload) string {
	e := Payload{"event_timestamp": time.Now().Unix()}
	merge(e, event)
	return t.SET(Payload{"sub_id": subject, "events": map[string]any{typ: e}})
}

// SET mints a Security Event Token with the header
// {"alg":"ES256","typ":"secevent+jwt","kid":…}. The payload has these
// defaults, each overridden by the same key in c, or removed when c maps
// it to nil: iss=Issuer(), aud=Audience(), iat=now and a random jti; c
// adds events and sub_id.
func (t *Transmitter) SET(c Payload) string {
	return t.SETWith(nil, c)
}

// SETWith mints a SET like SET, with header merged over the default
// header (a nil value removes a member), for malformed SETs.
func (t *Transmitter) SETWith(header map[string]any, c Payload) string {
	p := map[string]any{"iss": t.URL, "aud": t.Audience(), "iat": time.Now().Unix(), "jti": rand.Text()}
	merge(p, c)
	for name, v := range p {
		if tm, ok := v.(time.Time); ok {
			p[name] = tm.Unix()
		}
	}
	h := map[string]any{"alg": "ES256", "kid": t.key.kid, "typ": "secevent+jwt"}
	merge(h, header)
	return signWith(t.key, mustJSON(h), mustJSON(p))
}

// Sign returns the compact JWS of header and payload, which it base64url-
// encodes but otherwise leaves alone, signed with the transmitter's key:
// for SETs that no well-formed payload makes (a member named twice, …).
func (t *Transmitter) Sign(header, payload []byte) string {
	return signWith(t.key, header, payload)
}

// Send delivers set to every stream: pushed to a push stream's endpoint
// (an error unless it answers 202), queued for a poll stream until it is
// acknowledged.
func (t *Transmitter) Send(set string) error {
	jti := jtiOf(set)
	t.mu.Lock()
	var pushes []*txStream
	for _, id := range t.order {
		s := t.streams[id]
		if s.method == pollMethod {
			s.queue = append(s.queue, queued{jti, set})
			close(s.arrived)
			s.arrived = make(chan struct{})
		} else {
			pushes = append(pushes, s)
		}
	}
	n := len(t.order)
	t.mu.Unlock()
	if n == 0 {
		return errors.New("bearertest: Send without a stream")
	}
	var errs []error
	for _, s := range pushes {
		resp, err := t.Push(s.push, s.auth, set)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			errs = append(errs, fmt.Errorf("push to %s: %d %s", s.push, resp.StatusCode, body))
		}
	}
	return errors.Join(errs...)
}

// Push posts set to url as RFC 8935 says, with the Authorization header
// authorization unless it is empty. The caller closes the response's
// body.
func (t *Transmitter) Push(url, authorization, set string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(set))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/secevent+jwt")
	req.Header.Set("Accept", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return http.DefaultClient.Do(req)
}

// Unacknowledged returns how many SETs the poll streams hold that their
// receivers have not acknowledged.
func (t *Transmitter) Unacknowledged() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.streams {
		n += len(s.queue)
	}
	return n
}

// Refused returns the error code a poll receiver gave for the SET jti in
// setErrs (RFC 8936 §2.4), or "".
func (t *Transmitter) Refused(jti string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.streams {
		if code, ok := s.refused[jti]; ok {
			return code
		}
	}
	return ""
}

const (
	pushMethod = "urn:ietf:rfc:8935"
	pollMethod = "urn:ietf:rfc:8936"
)

func jtiOf(set string) string {
	parts := strings.Split(set, ".")
	var p struct {
		Jti string `json:"jti"`
	}
	if len(parts) == 3 {
		decodeSegment(parts[1], &p)
	}
	return p.Jti
}

func (t *Transmitter) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/.well-known/ssf-configuration" && r.Method == http.MethodGet:
		sendJSON(w, http.StatusOK, map[string]any{
			"spec_version":               "1_0",
			"issuer":                     t.URL,
			"jwks_uri":                   t.JWKSURL(),
			"delivery_methods_supported": []string{pushMethod, pollMethod},
			"configuration_endpoint":     t.URL + "/streams",
			"verification_endpoint":      t.URL + "/verify",
		})
	case r.URL.Path == "/jwks" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"keys":[%s]}`, t.key.jwk())
	case r.URL.Path == "/streams":
		t.serveStreams(w, r)
	case r.URL.Path == "/verify" && r.Method == http.MethodPost:
		var v struct {
			StreamID string `json:"stream_id"`
			State    string `json:"state"`
		}
		if json.NewDecoder(r.Body).Decode(&v) != nil {
			sendJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
			return
		}
		t.mu.Lock()
		_, ok := t.streams[v.StreamID]
		t.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		set := t.SET(Payload{
			"sub_id": map[string]any{"format": "opaque", "id": v.StreamID},
			"events": map[string]any{verificationEvent: map[string]any{"state": v.State}},
		})
		w.WriteHeader(http.StatusNoContent)
		// Delivered after the answer, as a transmitter does.
		go t.Send(set)
	case strings.HasPrefix(r.URL.Path, "/poll/") && r.Method == http.MethodPost:
		t.servePoll(w, r, strings.TrimPrefix(r.URL.Path, "/poll/"))
	default:
		http.NotFound(w, r)
	}
}

// serveStreams is the configuration_endpoint (SSF 1.0 §8.1.1).
func (t *Transmitter) serveStreams(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID       string `json:"stream_id"`
		Delivery *struct {
			Method string `json:"method"`
			URL    string `json:"endpoint_url"`
			Auth   string `json:"authorization_header"`
		} `json:"delivery"`
		EventsRequested []string `json:"events_requested"`
		Description     string   `json:"description"`
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			sendJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
			return
		}
	}
	id := r.URL.Query().Get("stream_id")
	if r.Method == http.MethodPatch {
		id = in.ID
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.streams[id]
	switch r.Method {
	case http.MethodGet:
		if id == "" {
			all := []any{}
			for _, id := range t.order {
				all = append(all, t.streams[id].config)
			}
			sendJSON(w, http.StatusOK, all)
			return
		}
		if s == nil {
			http.NotFound(w, r)
			return
		}
		sendJSON(w, http.StatusOK, s.config)
	case http.MethodPost:
		if in.Delivery == nil || in.Delivery.Method != pushMethod && in.Delivery.Method != pollMethod ||
			in.Delivery.Method == pushMethod && in.Delivery.URL == "" {
			sendJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
			return
		}
		id = rand.Text()
		s = &txStream{arrived: make(chan struct{}), refused: make(map[string]string)}
		t.streams[id] = s
		t.order = append(t.order, id)
		t.configure(id, s, in.Delivery.Method, in.Delivery.URL, in.Delivery.Auth, in.EventsRequested, in.Description)
		sendJSON(w, http.StatusCreated, s.config)
	case http.MethodPatch:
		if s == nil {
			http.NotFound(w, r)
			return
		}
		method, url, auth := s.method, s.push, s.auth
		if in.Delivery != nil {
			method, url, auth = in.Delivery.Method, in.Delivery.URL, in.Delivery.Auth
		}
		events := in.EventsRequested
		if events == nil {
			events, _ = s.config["events_requested"].([]string)
		}
		t.configure(id, s, method, url, auth, events, in.Description)
		sendJSON(w, http.StatusOK, s.config)
	case http.MethodDelete:
		if s == nil {
			http.NotFound(w, r)
			return
		}
		delete(t.streams, id)
		t.order = slices.DeleteFunc(t.order, func(x string) bool { return x == id })
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, PATCH, DELETE")
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// configure sets s's configuration, as the receiver reads it.
func (t *Transmitter) configure(id string, s *txStream, method, url, auth string, events []string, description string) {
	supported := []string{SessionRevoked, CredentialChange, TokenClaimsChange, AssuranceChange, AccountDisabled, AccountPurged, SessionsRevoked}
	delivered := []string{}
	for _, e := range events {
		if slices.Contains(supported, e) {
			delivered = append(delivered, e)
		}
	}
	s.method, s.push, s.auth = method, url, auth
	delivery := map[string]any{"method": method}
	if method == pollMethod {
		delivery["endpoint_url"] = t.URL + "/poll/" + id
	} else {
		delivery["endpoint_url"] = url
	}
	s.config = map[string]any{
		"stream_id": id, "iss": t.URL, "aud": t.Audience(),
		"events_supported": supported, "events_requested": events, "events_delivered": delivered,
		"delivery": delivery, "description": description,
	}
}

// servePoll is a poll stream's endpoint (RFC 8936 §2).
func (t *Transmitter) servePoll(w http.ResponseWriter, r *http.Request, id string) {
	var in struct {
		MaxEvents         *int                         `json:"maxEvents"`
		ReturnImmediately bool                         `json:"returnImmediately"`
		Ack               []string                     `json:"ack"`
		SetErrs           map[string]map[string]string `json:"setErrs"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		sendJSON(w, http.StatusBadRequest, map[string]any{"err": "invalid_request"})
		return
	}
	t.mu.Lock()
	s := t.streams[id]
	if s == nil || s.method != pollMethod {
		t.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	done := func(jti string) bool {
		_, refused := in.SetErrs[jti]
		return slices.Contains(in.Ack, jti) || refused
	}
	for jti, e := range in.SetErrs {
		s.refused[jti] = e["err"]
	}
	s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return done(q.jti) })
	stop := t.stop
	t.mu.Unlock()

	max := 100
	if in.MaxEvents != nil {
		max = *in.MaxEvents
	}
	hold := time.NewTimer(pollHold)
	defer hold.Stop()
	for {
		t.mu.Lock()
		sets := map[string]string{}
		for _, q := range s.queue[:min(max, len(s.queue))] {
			sets[q.jti] = q.set
		}
		more := len(s.queue) > max
		arrived := s.arrived
		t.mu.Unlock()
		if len(sets) > 0 || max == 0 || in.ReturnImmediately {
			sendJSON(w, http.StatusOK, map[string]any{"sets": sets, "moreAvailable": more})
			return
		}
		select {
		case <-arrived:
		case <-hold.C:
			sendJSON(w, http.StatusOK, map[string]any{"sets": sets})
			return
		case <-stop:
			return
		case <-r.Context().Done():
			return
		}
	}
}

func sendJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, mustJSON(v)) }
