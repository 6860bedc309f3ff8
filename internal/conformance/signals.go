package conformance

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/signals"
)

// SignalsPath is where RunSignals's router mounts the push endpoint of a
// Shared Signals receiver (signals.Receiver), for every method.
const SignalsPath = "/ssf/events"

// signalsAuthorization is what the receiver of the cases with
// Authorization requires (signals.Config.PushAuthorization).
const signalsAuthorization = "Bearer push-s3cret"

// SignalsCase is one push of a SET (RFC 8935) and the response every
// adapter must give it.
type SignalsCase struct {
	Name string
	// Ref names the specification section the case comes from.
	Ref string
	// SET mints the body with the case's transmitter and authority.
	SET func(e *SignalsEnv) string
	// Body, if set, is the body instead.
	Body        string
	Method      string // default POST
	ContentType string // default application/secevent+jwt
	// Authorized sends to a receiver that requires Authorization, with
	// Authorization (empty: none).
	Authorized    bool
	Authorization string
	// Down sends to a receiver whose transmitter is unreachable.
	Down bool
	// Twice sends the SET a second time; Want is the second answer.
	Twice bool
	Want  Want
}

// SignalsEnv is what the cases run against: the API's authority, a
// transmitter, and receivers of its SETs for a Validator of the
// authority's tokens.
type SignalsEnv struct {
	Authority   *bearertest.Authority
	Transmitter *bearertest.Transmitter
	OK, Auth    *signals.Receiver
	Down        *signals.Receiver
}

// NewSignalsEnv starts the authority, the transmitter, the Validator and
// the receivers, closed when t ends.
func NewSignalsEnv(t testing.TB) *SignalsEnv {
	t.Helper()
	e := &SignalsEnv{Authority: bearertest.New(t), Transmitter: bearertest.StartTransmitter(t)}
	v := newValidator(t, bearer.Config{Authority: e.Authority.Issuer(), Audience: []string{"api"}, Mode: bearer.ModeJWT, Logger: quiet})
	receiver := func(tr *bearertest.Transmitter, auth string) *signals.Receiver {
		r, err := signals.New(context.Background(), signals.Config{
			Transmitter: tr.Issuer(), Audience: tr.Audience(), Validator: v, Issuer: e.Authority.Issuer(),
			PushAuthorization: auth, Timeout: setupTimeout, Logger: quiet,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	e.OK, e.Auth = receiver(e.Transmitter, ""), receiver(e.Transmitter, signalsAuthorization)
	gone := bearertest.NewTransmitter("")
	gone.Close()
	e.Down = receiver(gone, "")
	return e
}

// RunSignals runs every case against the handler mount returns for a
// signals.Receiver, served at SignalsPath for every method, over a real
// loopback connection.
func RunSignals(t *testing.T, mount func(h http.Handler) http.Handler) {
	t.Helper()
	env := NewSignalsEnv(t)
	for _, c := range SignalsCases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Logf("%s (%s)", c.Name, c.Ref)
			t.Parallel()
			r := env.OK
			switch {
			case c.Down:
				r = env.Down
			case c.Authorized:
				r = env.Auth
			}
			srv := httptest.NewServer(mount(r))
			defer srv.Close()
			body := c.Body
			if c.SET != nil {
				body = c.SET(env)
			}
			resp, got := c.send(t, srv, body)
			if c.Twice {
				resp, got = c.send(t, srv, body)
			}
			CheckResponse(t, resp, got, c.Want)
		})
	}
}

func (c SignalsCase) send(t *testing.T, srv *httptest.Server, body string) (*http.Response, []byte) {
	t.Helper()
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, srv.URL+SignalsPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ct := c.ContentType
	if ct == "" {
		ct = "application/secevent+jwt"
	}
	req.Header.Set("Content-Type", ct)
	if c.Authorization != "" {
		req.Header.Set("Authorization", c.Authorization)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, got
}

// event mints a SET of one event about subject (nil: alice at the
// authority), with more claims merged over it.
func event(typ string, subject map[string]any, more bearertest.Payload) func(e *SignalsEnv) string {
	return func(e *SignalsEnv) string {
		sub := subject
		if sub == nil {
			sub = map[string]any{"format": "iss_sub", "iss": e.Authority.Issuer(), "sub": "alice"}
		}
		p := bearertest.Payload{"sub_id": sub, "events": map[string]any{typ: map[string]any{"event_timestamp": time.Now().Unix()}}}
		for k, v := range more {
			p[k] = v
		}
		return e.Transmitter.SET(p)
	}
}

func accepted() Want { return Want{Status: http.StatusAccepted} }

// setRefused is RFC 8935 §2.4's error response.
func setRefused(status int, code, description string) Want {
	return Want{Status: status, Body: `{"err":"` + code + `","description":"` + description + `"}` + "\n", Header: map[string]string{
		"Cache-Control":          "no-store",
		"Content-Type":           "application/json",
		"X-Content-Type-Options": "nosniff",
	}}
}

func badSET(code, description string) Want {
	return setRefused(http.StatusBadRequest, code, description)
}

// SignalsCases returns the table. Each call returns fresh values.
func SignalsCases() []SignalsCase {
	var cases []SignalsCase
	add := func(ref string, cs ...SignalsCase) {
		for _, c := range cs {
			c.Ref = ref
			cases = append(cases, c)
		}
	}
	session := map[string]any{"format": "complex", "session": map[string]any{"format": "opaque", "id": "s-1"}}
	malformed := "malformed SET"
	add("RFC 8935 §2.2",
		SignalsCase{Name: "session revoked", SET: event(bearertest.SessionRevoked, session, nil), Want: accepted()},
		SignalsCase{Name: "credential change", SET: event(bearertest.CredentialChange, nil, nil), Want: accepted()},
		SignalsCase{Name: "an event not acted on", SET: event("https://schemas.openid.net/secevent/caep/event-type/risk-level-change", nil, nil), Want: accepted()},
		SignalsCase{Name: "delivered twice", SET: event(bearertest.SessionRevoked, session, nil), Twice: true, Want: accepted()},
		SignalsCase{Name: "not a POST", Method: http.MethodGet, Want: Want{Status: http.StatusMethodNotAllowed, Body: "SETs are POSTed\n", Header: map[string]string{
			"Allow": "POST", "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff",
		}}},
		SignalsCase{Name: "another content type", SET: event(bearertest.CredentialChange, nil, nil), ContentType: "application/jwt",
			Want: badSET("invalid_request", "Content-Type is not application/secevent+jwt")},
		SignalsCase{Name: "1 MiB body", Body: strings.Repeat("a", 1<<20), Want: badSET("invalid_request", "SET too large")},
	)
	add("RFC 8417 §2.3",
		SignalsCase{Name: "typ application/secevent+jwt", SET: func(e *SignalsEnv) string {
			return e.Transmitter.SETWith(map[string]any{"typ": "application/secevent+jwt"}, bearertest.Payload{"sub_id": session, "events": map[string]any{bearertest.SessionRevoked: map[string]any{}}})
		}, Want: accepted()},
		SignalsCase{Name: "typ at+jwt", SET: func(e *SignalsEnv) string {
			return e.Transmitter.SETWith(map[string]any{"typ": "at+jwt"}, bearertest.Payload{"sub_id": session, "events": map[string]any{bearertest.SessionRevoked: map[string]any{}}})
		}, Want: badSET("invalid_request", "not a SET (typ secevent+jwt)")},
		SignalsCase{Name: "an access token", SET: func(e *SignalsEnv) string { return e.Authority.Token(bearertest.Payload{"aud": "api"}) },
			Want: badSET("invalid_request", "not a SET (typ secevent+jwt)")},
		SignalsCase{Name: "garbage", Body: "not.a.set", Want: badSET("invalid_request", "not a SET (typ secevent+jwt)")},
		// The typ judged is the one the verification reads: where
		// encoding/json would read the last typ, or TYP as typ, the
		// Validator's reader refuses the header.
		SignalsCase{Name: "typ named twice", SET: retyped(`"typ":"at+jwt","typ":"secevent+jwt"`),
			Want: badSET("invalid_request", "not a SET (typ secevent+jwt)")},
		SignalsCase{Name: "TYP", SET: retyped(`"typ":"at+jwt","TYP":"secevent+jwt"`),
			Want: badSET("invalid_request", "not a SET (typ secevent+jwt)")},
	)
	add("RFC 8935 §2.4",
		SignalsCase{Name: "signature of another SET", SET: func(e *SignalsEnv) string {
			a := strings.Split(event(bearertest.CredentialChange, nil, bearertest.Payload{"jti": "a"})(e), ".")
			b := strings.Split(event(bearertest.CredentialChange, nil, bearertest.Payload{"jti": "b"})(e), ".")
			return a[0] + "." + a[1] + "." + b[2]
		}, Want: badSET("invalid_key", "signature not verified by the transmitter's keys")},
		SignalsCase{Name: "signed by the authority", SET: func(e *SignalsEnv) string {
			return e.Authority.TokenWith("ES256", map[string]any{"typ": "secevent+jwt"}, bearertest.Payload{
				"iss": e.Transmitter.Issuer(), "aud": e.Transmitter.Audience(), "sub_id": session,
				"events": map[string]any{bearertest.SessionRevoked: map[string]any{}},
			})
		}, Want: badSET("invalid_key", "signature not verified by the transmitter's keys")},
		SignalsCase{Name: "other issuer", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"iss": "https://evil.example"}),
			Want: badSET("invalid_issuer", "iss is not the transmitter")},
		SignalsCase{Name: "for another receiver", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"aud": "another-receiver"}),
			Want: badSET("invalid_audience", "aud does not name this receiver")},
		SignalsCase{Name: "no jti", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"jti": nil}), Want: badSET("invalid_request", "jti missing")},
		SignalsCase{Name: "iat in the future", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"iat": time.Now().Add(time.Hour)}),
			Want: badSET("invalid_request", "iat in the future")},
		SignalsCase{Name: "iat two days ago", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"iat": time.Now().Add(-48 * time.Hour)}),
			Want: badSET("invalid_request", "SET older than this receiver remembers")},
		SignalsCase{Name: "member named twice", SET: func(e *SignalsEnv) string {
			parts := strings.Split(event(bearertest.CredentialChange, nil, nil)(e), ".")
			payload := strings.Replace(string(unb64(parts[1])), `"jti":`, `"jti":"x","jti":`, 1)
			return e.Transmitter.Sign(unb64(parts[0]), []byte(payload))
		}, Want: badSET("invalid_request", malformed)},
		SignalsCase{Name: "no events", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"events": nil}), Want: badSET("invalid_request", "events missing")},
		SignalsCase{Name: "an event not an object", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"events": map[string]any{bearertest.CredentialChange: true}}),
			Want: badSET("invalid_request", "an event is not a JSON object")},
		SignalsCase{Name: "without Authorization", SET: event(bearertest.CredentialChange, nil, nil), Authorized: true,
			Want: setRefused(http.StatusUnauthorized, "authentication_failed", "Authorization not accepted")},
		SignalsCase{Name: "wrong Authorization", SET: event(bearertest.CredentialChange, nil, nil), Authorized: true, Authorization: "Bearer guess",
			Want: setRefused(http.StatusUnauthorized, "authentication_failed", "Authorization not accepted")},
		SignalsCase{Name: "with Authorization", SET: event(bearertest.CredentialChange, nil, nil), Authorized: true, Authorization: signalsAuthorization,
			Want: accepted()},
		SignalsCase{Name: "transmitter unreachable", SET: event(bearertest.CredentialChange, nil, nil), Down: true,
			Want: Want{Status: http.StatusServiceUnavailable, Header: map[string]string{"Cache-Control": "no-store", "Retry-After": "1"}}},
	)
	add("RFC 9493 §3",
		SignalsCase{Name: "no subject", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"sub_id": nil}), Want: badSET("invalid_request", "event without subject")},
		SignalsCase{Name: "subject without format", SET: event(bearertest.CredentialChange, map[string]any{"sub": "alice"}, nil), Want: badSET("invalid_request", "malformed subject")},
		SignalsCase{Name: "iss_sub without iss", SET: event(bearertest.CredentialChange, map[string]any{"format": "iss_sub", "sub": "alice"}, nil), Want: badSET("invalid_request", "malformed subject")},
		SignalsCase{Name: "email subject", SET: event(bearertest.CredentialChange, map[string]any{"format": "email", "email": "alice@example.com"}, nil), Want: accepted()},
		SignalsCase{Name: "format not known", SET: event(bearertest.CredentialChange, map[string]any{"format": "x-vendor"}, nil), Want: accepted()},
		// Member names are matched exactly, at every depth, as the
		// Validator's reader matches them (RFC 7519 §4): encoding/json
		// would read each of these as the member it is not.
		SignalsCase{Name: "SUB_ID", SET: func(e *SignalsEnv) string {
			sub := map[string]any{"format": "iss_sub", "iss": e.Authority.Issuer(), "sub": "alice"}
			return event(bearertest.CredentialChange, nil, bearertest.Payload{"sub_id": nil, "SUB_ID": sub})(e)
		}, Want: badSET("invalid_request", "event without subject")},
		SignalsCase{Name: "a subject's Format", SET: func(e *SignalsEnv) string {
			return event(bearertest.CredentialChange, map[string]any{"Format": "iss_sub", "iss": e.Authority.Issuer(), "sub": "alice"}, nil)(e)
		}, Want: badSET("invalid_request", "malformed subject")},
		SignalsCase{Name: "an event's Subject", SET: func(e *SignalsEnv) string {
			sub := map[string]any{"format": "iss_sub", "iss": e.Authority.Issuer(), "sub": "alice"}
			return e.Transmitter.SET(bearertest.Payload{"events": map[string]any{bearertest.CredentialChange: map[string]any{"Subject": sub}}})
		}, Want: badSET("invalid_request", "event without subject")},
		// A NumericDate is a JSON number (RFC 7519 §2); encoding/json reads
		// a string of digits into a json.Number too.
		SignalsCase{Name: "event_timestamp a string", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"events": map[string]any{
			bearertest.CredentialChange: map[string]any{"event_timestamp": "1700000000"},
		}}), Want: badSET("invalid_request", "malformed event")},
		SignalsCase{Name: "an event's state a number", SET: event(bearertest.CredentialChange, nil, bearertest.Payload{"events": map[string]any{
			bearertest.CredentialChange: map[string]any{"state": 5},
		}}), Want: badSET("invalid_request", "malformed event")},
	)
	assurance := func(members bearertest.Payload) func(e *SignalsEnv) string {
		members["event_timestamp"] = time.Now().Unix()
		return func(e *SignalsEnv) string {
			sub := map[string]any{"format": "iss_sub", "iss": e.Authority.Issuer(), "sub": "alice"}
			return e.Transmitter.SET(bearertest.Payload{"sub_id": sub, "events": map[string]any{bearertest.AssuranceChange: members}})
		}
	}
	malformedLevel := badSET("invalid_request", "malformed assurance-level-change event")
	add("CAEP 1.0 §3.4.1",
		SignalsCase{Name: "assurance level lowered", SET: assurance(bearertest.Payload{"namespace": "NIST-AAL", "current_level": "nist-aal1", "previous_level": "nist-aal2", "change_direction": "decrease"}), Want: accepted()},
		SignalsCase{Name: "assurance level raised", SET: assurance(bearertest.Payload{"namespace": "NIST-AAL", "current_level": "nist-aal2", "change_direction": "increase"}), Want: accepted()},
		SignalsCase{Name: "assurance level without direction", SET: assurance(bearertest.Payload{"namespace": "Retinal Scan", "current_level": "hi-res-scan"}), Want: accepted()},
		SignalsCase{Name: "assurance level without current_level", SET: assurance(bearertest.Payload{"namespace": "NIST-AAL"}), Want: malformedLevel},
		SignalsCase{Name: "assurance level without namespace", SET: assurance(bearertest.Payload{"current_level": "nist-aal1"}), Want: malformedLevel},
		SignalsCase{Name: "assurance level with Current_Level", SET: assurance(bearertest.Payload{"namespace": "NIST-AAL", "Current_Level": "nist-aal1", "change_direction": "decrease"}), Want: malformedLevel},
		SignalsCase{Name: "assurance level change_direction not defined", SET: assurance(bearertest.Payload{"namespace": "NIST-AAL", "current_level": "nist-aal1", "change_direction": "down"}), Want: malformedLevel},
	)
	return cases
}

// retyped signs a SET whose header has typ as given instead of
// "typ":"secevent+jwt".
func retyped(typ string) func(e *SignalsEnv) string {
	return func(e *SignalsEnv) string {
		parts := strings.Split(event(bearertest.CredentialChange, nil, nil)(e), ".")
		header := strings.Replace(string(unb64(parts[0])), `"typ":"secevent+jwt"`, typ, 1)
		if !strings.Contains(header, typ) {
			panic("no typ in the header " + header)
		}
		return e.Transmitter.Sign([]byte(header), unb64(parts[1]))
	}
}

func unb64(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
