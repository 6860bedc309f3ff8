package signals

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/accesstoken/bearer"
)

// The event types a Receiver acts on (CAEP 1.0 §3, RISC 1.0 §2, SSF 1.0
// §8.1.4 and §8.1.5). Any other is acknowledged and ignored.
const (
	caep = "https://schemas.openid.net/secevent/caep/event-type/"
	risc = "https://schemas.openid.net/secevent/risc/event-type/"
	ssf  = "https://schemas.openid.net/secevent/ssf/event-type/"

	eventSessionRevoked    = caep + "session-revoked"
	eventCredentialChange  = caep + "credential-change"
	eventTokenClaimsChange = caep + "token-claims-change"
	eventAssuranceChange   = caep + "assurance-level-change"
	eventAccountDisabled   = risc + "account-disabled"
	eventAccountPurged     = risc + "account-purged"
	eventSessionsRevoked   = risc + "sessions-revoked"
	eventVerification      = ssf + "verification"
	eventStreamUpdated     = ssf + "stream-updated"
)

// Events are the event types a Receiver acts on, for a stream's
// events_requested (CreateStream asks for them when its own list is
// empty).
var Events = []string{
	eventSessionRevoked, eventCredentialChange, eventTokenClaimsChange,
	eventAssuranceChange, eventAccountDisabled, eventAccountPurged,
	eventSessionsRevoked,
}

// action is what one event of a SET calls for, read in full before
// anything is done: a SET with one malformed event changes nothing.
type action struct {
	typ         string
	state       string // a verification event's
	revocations []bearer.Revocation
	// nothing says why an event the receiver acts on calls for nothing.
	nothing string
}

// apply carries out what s's events call for. Every action is a
// bearer.Revocation whose times come from the event, never from when it
// arrived, so a SET applied twice changes nothing the first time did not:
// a delivery retried after a failure, or a replay, is harmless. Its errors
// are *refusal: an event payload that does not conform (400), or the
// store that failed to carry a revocation to the other replicas (503: the
// transmitter delivers the SET again).
func (r *Receiver) apply(ctx context.Context, s *set) error {
	actions := make([]action, 0, len(s.events))
	for typ, raw := range s.events {
		a, err := r.read(s, typ, raw)
		if err != nil {
			return err
		}
		actions = append(actions, a)
	}
	var storeErr error
	for _, a := range actions {
		switch a.typ {
		case eventVerification:
			r.verified(a.state)
			r.log.InfoContext(ctx, "signals: verification event", "set", bearer.Fingerprint(s.raw))
			continue
		case eventStreamUpdated:
			r.log.InfoContext(ctx, "signals: the transmitter updated the stream", "set", bearer.Fingerprint(s.raw), "event", string(s.events[a.typ]))
			continue
		}
		if !acted(a.typ) {
			r.log.DebugContext(ctx, "signals: event ignored", "set", bearer.Fingerprint(s.raw), "type", a.typ)
			continue
		}
		if a.nothing != "" {
			r.log.InfoContext(ctx, "signals: "+a.nothing, "set", bearer.Fingerprint(s.raw), "type", a.typ)
			continue
		}
		if len(a.revocations) == 0 {
			r.log.InfoContext(ctx, "signals: event names no token of this API", "set", bearer.Fingerprint(s.raw), "type", a.typ)
		}
		for _, rv := range a.revocations {
			err := r.cfg.Validator.Revoke(ctx, rv)
			switch {
			case err == nil:
				r.log.InfoContext(ctx, "signals: revoked", "set", bearer.Fingerprint(s.raw), "type", a.typ, "revocation", describe(rv))
			case errors.Is(err, bearer.ErrNotAuthority):
				r.log.InfoContext(ctx, "signals: event names another authority's tokens; ignored", "set", bearer.Fingerprint(s.raw), "type", a.typ, "issuer", rv.Issuer)
			default:
				// It holds here already; the other replicas miss it.
				storeErr = errors.Join(storeErr, err)
			}
		}
	}
	if storeErr != nil {
		return unavailable("revocation store unavailable", time.Second, storeErr)
	}
	return nil
}

// acted reports whether typ is an event that revokes tokens.
func acted(typ string) bool {
	switch typ {
	case eventSessionRevoked, eventCredentialChange, eventTokenClaimsChange, eventAssuranceChange,
		eventAccountDisabled, eventAccountPurged, eventSessionsRevoked:
		return true
	}
	return false
}

// read reads one event of s: its payload, and for an event that revokes
// tokens its subject, into the revocations it calls for.
func (r *Receiver) read(s *set, typ string, raw json.RawMessage) (action, error) {
	e, ok := readObject(raw)
	state, okState := e.str("state")
	stamp, okStamp := e.number("event_timestamp")
	if !ok || !okState || !okStamp {
		return action{}, refuse(errInvalidRequest, "malformed event")
	}
	a := action{typ: typ, state: state}
	if !acted(typ) {
		return a, nil
	}
	var level *string // an assurance change's acr; nil for an increase
	if typ == eventAssuranceChange {
		// CAEP 1.0 §3.4.1; previous_level is not read: only the direction
		// matters.
		namespace, ok1 := e.str("namespace")
		current, ok2 := e.str("current_level")
		direction, ok3 := e.str("change_direction")
		if !ok1 || !ok2 || !ok3 || namespace == "" || current == "" ||
			direction != "" && direction != "increase" && direction != "decrease" {
			return a, refuse(errInvalidRequest, "malformed assurance-level-change event")
		}
		if direction == "increase" {
			// It gives the tokens issued before it nothing they did not
			// show: the client gets a new token for a step-up route.
			a.nothing = "assurance increased; tokens issued before keep their acr"
			return a, nil
		}
		acr := current
		if r.cfg.AssuranceACR != nil {
			acr = r.cfg.AssuranceACR(namespace, current)
		}
		level = &acr
	}
	at := s.issued
	if t, ok := numericDate(stamp); ok {
		at = t
	}
	subj := s.subject
	if subj == nil {
		subj = e["subject"]
	}
	if subj == nil {
		return a, refuse(errInvalidRequest, "event without subject")
	}
	sub, ok := readSubject(subj, r.cfg.Issuer, 0)
	if !ok {
		return a, refuse(errInvalidRequest, "malformed subject")
	}
	if level != nil {
		// A level is a user's: the sessions of a subject that names no
		// user name no sub to lower.
		for _, u := range sub.users {
			a.revocations = append(a.revocations, bearer.Revocation{Issuer: u.issuer, ACRSubject: u.subject, ACR: *level, IssuedBefore: at})
		}
		return a, nil
	}
	a.revocations = r.revocations(typ, sub, at)
	return a, nil
}

// revocations returns what an event of type typ about sub, which happened
// at at, revokes:
//
//   - CAEP session-revoked: the sessions (sid) or single tokens (jti) the
//     subject names, or, when it names none, every token of its users
//     issued at or before at.
//   - CAEP credential-change, token-claims-change; RISC account-disabled,
//     account-purged, sessions-revoked: every token of the subject's
//     users issued at or before at, or, when it names no user, of its
//     sessions. A token's claims cannot be changed where it is held: the
//     client, refused, gets a new token, which carries the new claims and
//     credential; an introspection answer about a revoked token is
//     forgotten (bearer's revocation stage), so the authority is asked
//     afresh once the revocation lapses.
func (r *Receiver) revocations(typ string, sub subject, at time.Time) []bearer.Revocation {
	var out []bearer.Revocation
	session := func(t target) bearer.Revocation {
		if t.tokenID != "" {
			return bearer.Revocation{Issuer: t.issuer, TokenID: t.tokenID}
		}
		return bearer.Revocation{Issuer: t.issuer, SessionID: t.session}
	}
	user := func(t target) bearer.Revocation {
		return bearer.Revocation{Issuer: t.issuer, Subject: t.subject, IssuedBefore: at}
	}
	if typ == eventSessionRevoked && (len(sub.sessions) > 0 || sub.otherSession) {
		for _, t := range sub.sessions {
			out = append(out, session(t))
		}
		return out
	}
	for _, t := range sub.users {
		out = append(out, user(t))
	}
	if len(sub.users) == 0 {
		for _, t := range sub.sessions {
			out = append(out, session(t))
		}
	}
	return out
}

// describe names what rv revokes, for the log.
func describe(rv bearer.Revocation) string {
	switch {
	case rv.ACRSubject != "":
		return "acr of sub " + rv.ACRSubject + " at " + rv.Issuer + " lowered to " + strconv.Quote(rv.ACR) + " for tokens issued at or before " + rv.IssuedBefore.UTC().Format(time.RFC3339)
	case rv.SessionID != "":
		return "sid " + rv.SessionID + " at " + rv.Issuer
	case rv.TokenID != "":
		return "jti " + rv.TokenID + " at " + rv.Issuer
	}
	return "sub " + rv.Subject + " at " + rv.Issuer + ", issued at or before " + rv.IssuedBefore.UTC().Format(time.RFC3339)
}
