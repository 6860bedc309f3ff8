package signals

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/accesstoken/bearer"
)

// ServeHTTP is the push endpoint (RFC 8935): mount it at the URL the
// stream names as delivery.endpoint_url. It takes a POST of one SET as
// application/secevent+jwt, verifies it, applies its events and records
// its jti, and answers 202 Accepted; a SET already processed (a retry, or
// a replay) is acknowledged with 202 too. A SET it refuses gets 400 with
// the JSON error of RFC 8935 §2.4 ({"err": …, "description": …}):
// invalid_request (malformed, too large, not a SET, an old or future iat,
// a malformed subject), invalid_key (no key of the transmitter verifies
// it), invalid_issuer, invalid_audience; authentication_failed (401) when
// Config.PushAuthorization is not what the request sends. When the
// transmitter's keys cannot be fetched, or the store cannot carry a
// revocation to the other replicas, it answers 503 with Retry-After, and
// the transmitter delivers the SET again. Any other method gets 405.
//
// It never logs a SET, only its bearer.Fingerprint, and logs refusals at
// Debug: anyone can post garbage.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "SETs are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if want := r.cfg.PushAuthorization; want != "" && subtle.ConstantTimeCompare([]byte(req.Header.Get("Authorization")), []byte(want)) != 1 {
		writeRefusal(w, http.StatusUnauthorized, refuse(errAuthentication, "Authorization not accepted"))
		return
	}
	raw, ref := readSET(w, req)
	if ref == nil {
		ctx, cancel := context.WithTimeout(req.Context(), r.cfg.Timeout)
		defer cancel()
		ref = r.receive(ctx, raw)
	}
	if ref != nil {
		r.log.DebugContext(req.Context(), "signals: SET refused", "set", bearer.Fingerprint(raw), "error", ref)
		status := http.StatusBadRequest
		if ref.code == "" {
			status = http.StatusServiceUnavailable
		}
		writeRefusal(w, status, ref)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// readSET reads the one SET of a push, at most maxSET bytes.
func readSET(w http.ResponseWriter, req *http.Request) (string, *refusal) {
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "application/secevent+jwt" {
		return "", refuse(errInvalidRequest, "Content-Type is not application/secevent+jwt")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxSET))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return "", refuse(errInvalidRequest, "SET too large")
	case err != nil:
		return "", refuse(errInvalidRequest, "body not read")
	}
	return string(body), nil
}

// receive verifies and processes one SET, push or poll: its events are
// applied, then its jti is recorded. The order is the one that loses
// nothing: a SET whose revocations the store could not carry is not
// recorded, so its redelivery applies them; and since applying a SET
// twice changes nothing (see apply), one already recorded is harmless to
// apply again. Its jti, recorded already, marks it a duplicate, which is
// acknowledged all the same.
func (r *Receiver) receive(ctx context.Context, raw string) *refusal {
	s, err := r.verify(ctx, raw)
	if err != nil {
		return err.(*refusal)
	}
	if err := r.apply(ctx, s); err != nil {
		return err.(*refusal)
	}
	first, err := r.seen.FirstSeen(ctx, "set "+s.issuer+" "+s.id, s.issued.Add(r.cfg.MaxAge+r.cfg.Leeway))
	if err != nil {
		return unavailable("revocation store unavailable", time.Second, err)
	}
	if !first {
		r.log.DebugContext(ctx, "signals: SET delivered again", "set", bearer.Fingerprint(raw))
	}
	return nil
}

// writeRefusal answers with RFC 8935 §2.4's error, or for a 503 with
// Retry-After and no body.
func writeRefusal(w http.ResponseWriter, status int, ref *refusal) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(int((ref.retry+time.Second-1)/time.Second)))
		w.WriteHeader(status)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	body, _ := json.Marshal(setError{Err: ref.code, Description: ref.description})
	_, _ = w.Write(append(body, '\n'))
}

// setError is RFC 8935 §2.4's error, and an entry of RFC 8936's setErrs.
type setError struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}
