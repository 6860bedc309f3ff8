package bearer

import (
	"encoding/json"
	"errors"
	"slices"
)

// Actor is a party named by a token's act or may_act claim (RFC 8693 §4.1,
// §4.4): who acts, or may act, for the token's subject.
type Actor struct {
	Subject string // sub
	Issuer  string // iss, if the actor is named within an issuer's namespace
	// Raw is the claim's object as issued, for other members (client_id,
	// email, …); that of an act claim includes the prior actors it nests.
	Raw json.RawMessage
}

// Actors returns the actor chain of a delegated token, from a JWT or an
// introspection answer: the act claim, then the act claims it nests. The
// first is the current actor, the party to whom the subject's authority
// was delegated and the only one an access decision may consider (RFC
// 8693 §4.1); the others are prior actors, most recent first, a history
// that is informational only. nil if the token has no act claim, that is,
// was not delegated. Each call reads the chain again from the claims as
// issued.
//
// A token whose act (at any depth) is not a JSON object whose sub and iss,
// if present, are strings is refused when validated (401 invalid_token,
// ErrMalformed).
func (c *Claims) Actors() []Actor {
	raw := rawMember(c.raw, "act")
	if raw == "" {
		return nil
	}
	chain, _ := parseActors(raw, nil)
	return chain
}

// MayAct returns the party the token's may_act claim names as allowed to
// become an actor for its subject (RFC 8693 §4.4), or nil if there is
// none. It states what the authorization server allows in a later token
// exchange: the actor of this token is in Actors.
func (c *Claims) MayAct() *Actor {
	raw := rawMember(c.raw, "may_act")
	if raw == "" {
		return nil
	}
	a, _, err := parseActor(raw)
	if err != nil || a == nil {
		return nil
	}
	return a
}

// errActor: an act or may_act claim that is not an object, or whose sub
// or iss is not a string (RFC 8693 §4.1, §4.4).
var errActor = errors.New("act or may_act is not an object naming its party with strings")

// actorMembers are the members of an act or may_act object read into Actor,
// and the nested act.
var actorMembers = []string{"sub", "iss", "act"}

// parseActors appends to chain the actor raw, an act claim's value, and
// those it nests. null is no actor.
func parseActors(raw string, chain []Actor) ([]Actor, error) {
	a, nested, err := parseActor(raw)
	if err != nil || a == nil {
		return chain, err
	}
	chain = append(chain, *a)
	if nested == "" {
		return chain, nil
	}
	return parseActors(nested, chain)
}

// Bits of the members of an actor.
const (
	seenActorSub = 1 << iota
	seenActorIss
	seenActorAct
)

// parseActor reads one actor object; nested is the value of its own act
// member, "" if none. null is no actor.
func parseActor(raw string) (a *Actor, nested string, err error) {
	sc := newScanner(raw)
	if sc.isNull() {
		return nil, "", nil
	}
	if sc.peek() != '{' {
		return nil, "", errActor
	}
	a = &Actor{Raw: json.RawMessage(raw)}
	m := readMembers(raw, actorMembers)
	for m.next() {
		s := &m.s
		switch string(m.name) {
		case "sub":
			a.Subject, err = s.optString()
			m.took(seenActorSub, err)
		case "iss":
			a.Issuer, err = s.optString()
			m.took(seenActorIss, err)
		case "act":
			if p := s.peek(); p != '{' && p != 'n' {
				m.took(0, errActor)
				break
			}
			if nested, err = s.rawValue(); nested == "null" {
				nested = ""
			}
			m.took(seenActorAct, err)
		default:
			m.took(0, s.skip(0))
		}
	}
	if err := m.end(); err != nil {
		return nil, "", err
	}
	return a, nested, nil
}

// ActedBy requires a delegated token whose current actor (the outermost
// act claim, RFC 8693 §4.1) has one of subjects as its sub: "only agent-7
// may act". A token that no one acts for is refused; to accept it too:
//
//	bearer.AnyOf(bearer.ActedBy("agent-7"), bearer.MaxDelegation(0))
//
// Prior actors are not considered, and the actor's iss is not compared; a
// Predicate over Claims.Actors can do either. With no subjects (or only
// empty ones) no actor is allowed: every token is refused. A refusal is a
// Predicate's (403, "insufficient privileges").
func ActedBy(subjects ...string) Requirement {
	allowed := slices.DeleteFunc(slices.Clone(subjects), func(s string) bool { return s == "" })
	return Predicate(func(c *Claims) bool {
		raw := rawMember(c.raw, "act")
		if raw == "" {
			return false
		}
		a, _, err := parseActor(raw)
		return err == nil && a != nil && slices.Contains(allowed, a.Subject)
	})
}

// MaxDelegation requires that the token's actor chain (Claims.Actors) be
// at most depth long: MaxDelegation(0) refuses every delegated token,
// MaxDelegation(1) one whose current actor names prior actors. RFC 8693
// calls prior actors informational; a bound on their number only refuses
// more, never accepts what another rule refused. A negative depth counts
// as 0. A refusal is a Predicate's (403, "insufficient privileges").
func MaxDelegation(depth int) Requirement {
	depth = max(depth, 0)
	return Predicate(func(c *Claims) bool {
		raw := rawMember(c.raw, "act")
		if raw == "" {
			return true
		}
		chain, err := parseActors(raw, nil)
		return err == nil && len(chain) <= depth
	})
}
