package signals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/strict"
)

// maxSET bounds a SET's compact form: a SET is a few hundred bytes, a
// few kilobytes with a complex subject.
const maxSET = 64 << 10

// The error codes of RFC 8935 §2.4 (and RFC 8936 §2.4's setErrs).
const (
	errInvalidRequest = "invalid_request"
	errInvalidKey     = "invalid_key"
	errInvalidIssuer  = "invalid_issuer"
	errInvalidAud     = "invalid_audience"
	errAuthentication = "authentication_failed"
)

// refusal is why a SET was not processed: an RFC 8935 error code with a
// fixed description, answered with 400; or, when code is empty, a
// failure of the transmitter's key set or of the store, answered with 503
// and Retry-After so that the transmitter delivers the SET again.
type refusal struct {
	code, description string
	retry             time.Duration
	cause             error // for the log
}

func (e *refusal) Error() string {
	s := e.code
	if s == "" {
		s = "unavailable"
	}
	s += ": " + e.description
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func refuse(code, description string) *refusal { return &refusal{code: code, description: description} }

func unavailable(description string, retry time.Duration, cause error) *refusal {
	return &refusal{description: description, retry: max(retry, time.Second), cause: cause}
}

// set is a verified Security Event Token: what its claims say.
type set struct {
	raw     string
	issuer  string
	id      string // jti
	issued  time.Time
	subject json.RawMessage // sub_id, or nil
	events  map[string]json.RawMessage
}

// verify checks a SET (RFC 8417 §2, SSF 1.0 §4.1): typ secevent+jwt, a
// signature by the transmitter's keys under the Validator's rules, iss
// the transmitter, aud naming this receiver, iat neither in the future
// nor older than MaxAge, a jti, and events holding at least one event,
// each an object. Its errors are *refusal.
func (r *Receiver) verify(ctx context.Context, raw string) (*set, error) {
	if len(raw) > maxSET {
		return nil, refuse(errInvalidRequest, "SET too large")
	}
	// typ before any key is looked at, read by the Validator's own reader
	// (internal/strict), so that this reading and the verification's cannot
	// disagree.
	if !typOK(raw) {
		return nil, refuse(errInvalidRequest, "not a SET (typ secevent+jwt)")
	}
	_, keys, err := r.transmitter(ctx, false)
	if err != nil {
		return nil, unavailable("transmitter unreachable", retrySpacing, err)
	}
	payload, err := keys.KeySet().VerifySignature(ctx, raw)
	if err != nil {
		e := bearer.AsError(err)
		switch {
		case e.Status == http.StatusServiceUnavailable:
			return nil, unavailable("transmitter keys unavailable", e.RetryAfter, err)
		case errors.Is(err, bearer.ErrSignature), errors.Is(err, bearer.ErrUnknownKey), errors.Is(err, bearer.ErrAlgorithm):
			return nil, &refusal{code: errInvalidKey, description: "signature not verified by the transmitter's keys", cause: err}
		}
		return nil, &refusal{code: errInvalidRequest, description: "malformed SET", cause: err}
	}
	w, ok := readObject(payload)
	if !ok {
		return nil, refuse(errInvalidRequest, "malformed SET")
	}
	iss, okIss := w.str("iss")
	jti, okJti := w.str("jti")
	iat, okIat := w.number("iat")
	var events object
	okEvents := true
	if raw := w["events"]; raw != nil && string(raw) != "null" {
		events, okEvents = readObject(raw)
	}
	if !okIss || !okJti || !okIat || !okEvents {
		return nil, refuse(errInvalidRequest, "malformed SET")
	}
	if iss == "" || iss != r.cfg.Transmitter {
		return nil, refuse(errInvalidIssuer, "iss is not the transmitter")
	}
	if !audienceHas(w["aud"], r.cfg.Audience) {
		return nil, refuse(errInvalidAud, "aud does not name this receiver")
	}
	if jti == "" {
		return nil, refuse(errInvalidRequest, "jti missing")
	}
	issued, ok := numericDate(iat)
	now := time.Now()
	switch {
	case !ok:
		return nil, refuse(errInvalidRequest, "iat missing or not a NumericDate")
	case issued.After(now.Add(r.cfg.Leeway)):
		return nil, refuse(errInvalidRequest, "iat in the future")
	case issued.Before(now.Add(-r.cfg.MaxAge)):
		return nil, refuse(errInvalidRequest, "SET older than this receiver remembers")
	}
	if len(events) == 0 {
		return nil, refuse(errInvalidRequest, "events missing")
	}
	for _, e := range events {
		if !isObject(e) {
			return nil, refuse(errInvalidRequest, "an event is not a JSON object")
		}
	}
	subject := w["sub_id"]
	if subject != nil && !isObject(subject) {
		return nil, refuse(errInvalidRequest, "sub_id is not a JSON object")
	}
	return &set{raw: raw, issuer: iss, id: jti, issued: issued, subject: subject, events: events}, nil
}

// typOK reports whether the header's typ is secevent+jwt (RFC 8417
// §2.3), compared as a media type: case-insensitively, application/
// optional. A missing typ is refused (SSF 1.0 requires explicit typing),
// and so is a header the Validator's reader refuses.
func typOK(raw string) bool {
	typ, ok := strict.Typ(raw)
	typ = strings.ToLower(typ)
	return ok && (typ == "secevent+jwt" || typ == "application/secevent+jwt")
}

// audienceHas reports whether aud, a string or an array of strings,
// names want.
func audienceHas(aud json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(aud, &one) == nil {
		return one == want
	}
	var many []string
	return json.Unmarshal(aud, &many) == nil && slices.Contains(many, want)
}

// numericDate reads a NumericDate (seconds since the epoch, perhaps with
// a fraction).
func numericDate(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > math.MaxInt32*4 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}
