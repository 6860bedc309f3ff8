package bearer

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Requirement is what a token must show for a request to pass: scopes, an
// authentication context (step-up, RFC 9470: ACR, ACRAtLeast, MaxAge), a
// rule over its claims (Predicate; ActedBy and MaxDelegation for actors,
// RFC 8693), or several of these combined with AnyOf and AllOf. The zero
// Requirement requires nothing.
//
// A refusal names what the operation asks for, never more: the scopes of
// the unmet parts (403 insufficient_scope), or, when an authentication
// context is unmet, a 401 insufficient_user_authentication with the
// acr_values and max_age a new sign-in must meet. The 401 comes first
// when both are unmet, since one new authorization request, with those
// and the missing scopes (named in its scope parameter too), can meet
// them all; a 403 alone would cost the client a second round trip.
type Requirement struct {
	kind   requirementKind
	all    bool               // scopes and parts: every one is needed, not one
	scopes []string           // requireScopes
	parts  []Requirement      // requireParts; none of them zero
	acr    []string           // requireACR: the acceptable values; with levels, the least one
	levels []string           // requireACR: values weakest first (ACRAtLeast), or nil
	maxAge time.Duration      // requireMaxAge, in whole seconds
	pred   func(*Claims) bool // requirePredicate
}

type requirementKind uint8

const (
	requireScopes requirementKind = iota // the zero Requirement is one, naming none
	requireParts
	requireACR
	requireMaxAge
	requirePredicate // Predicate, ActedBy, MaxDelegation
)

// AnyOf requires at least one of its arguments: scopes, as
// IdentityServer3's RequiredScopes did, or requirements, such as
// AnyOf(AllOf("admin"), ACR("urn:example:mfa")).
//
// A scope argument may hold several scopes separated by spaces (U+0020
// only, as in a scope parameter); empty strings and zero Requirements are
// ignored, and AnyOf[string]() requires nothing.
//
// A scope must be an RFC 6749 §3.3 scope-token: printable ASCII without
// space, '"' or '\'. Claims.Scopes holds nothing else, so a requirement
// naming anything else can never be met: New refuses it in
// Config.RequiredScopes, and elsewhere it refuses every token (403).
func AnyOf[T string | Requirement](items ...T) Requirement { return combine(false, items) }

// AllOf requires every one of its arguments, scopes or requirements, given
// as for AnyOf:
//
//	bearer.AllOf("payments:write")                                     // a scope
//	bearer.AllOf(bearer.AllOf("payments:write"), bearer.MaxAge(5*time.Minute)) // and a recent sign-in
func AllOf[T string | Requirement](items ...T) Requirement { return combine(true, items) }

func combine[T string | Requirement](all bool, items []T) Requirement {
	if scopes, ok := any(items).([]string); ok {
		return Requirement{scopes: cleanScopes(scopes), all: all}
	}
	var parts []Requirement
	for _, r := range any(items).([]Requirement) {
		if !r.IsZero() {
			parts = append(parts, r)
		}
	}
	switch len(parts) {
	case 0:
		return Requirement{}
	case 1:
		return parts[0]
	}
	return Requirement{kind: requireParts, parts: parts, all: all}
}

// IsZero reports whether r requires nothing.
func (r Requirement) IsZero() bool {
	switch r.kind {
	case requireScopes:
		return len(r.scopes) == 0
	case requireParts:
		return len(r.parts) == 0
	}
	return false
}

// String returns the scopes of a scope requirement separated by spaces,
// as they appear in the scope parameter of an insufficient_scope
// challenge; other requirements are described, for logs:
// all(admin; acr urn:example:mfa; max_age 300).
func (r Requirement) String() string {
	switch r.kind {
	case requireParts:
		var b strings.Builder
		b.WriteString("any(")
		if r.all {
			b.Reset()
			b.WriteString("all(")
		}
		for i, p := range r.parts {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(p.String())
		}
		return b.String() + ")"
	case requireACR:
		if r.levels != nil {
			return "acr at least " + r.acr[0] + " of " + strings.Join(r.levels, " ")
		}
		return "acr " + strings.Join(r.acr, " ")
	case requireMaxAge:
		return "max_age " + strconv.FormatInt(int64(r.maxAge/time.Second), 10)
	case requirePredicate:
		return "predicate"
	}
	return strings.Join(r.scopes, " ")
}

// malformed returns the first value of r that is not a scope-token (a
// scope, or an acr value, which is written in the same alphabet) or an
// ACRAtLeast whose least value is not one of its levels, or "".
func (r *Requirement) malformed() string {
	for _, s := range slices.Concat(r.scopes, r.acr, r.levels) {
		if !isScopeToken(s) {
			return s
		}
	}
	if r.levels != nil && !slices.Contains(r.levels, r.acr[0]) {
		return r.acr[0]
	}
	for i := range r.parts {
		if bad := r.parts[i].malformed(); bad != "" {
			return bad
		}
	}
	return ""
}

// needsScope reports whether every way to meet r needs a scope, so that
// r alone keeps out tokens meant for other APIs.
func (r *Requirement) needsScope() bool {
	switch r.kind {
	case requireScopes:
		return len(r.scopes) > 0
	case requireParts:
		for i := range r.parts {
			if r.parts[i].needsScope() == r.all {
				return r.all
			}
		}
		return !r.all
	}
	return false
}

// instant is the time requirements are judged at: read once, and only if
// one of them needs it (MaxAge), so that others cost no clock reading.
// rev is set only while the token's issuer has a user's lowered assurance
// on record (Revocation.ACRSubject): then what it says of the token's acr
// is looked up once, when an acr requirement first asks.
type instant struct {
	t      time.Time
	leeway time.Duration
	rev    *revocationIndex
	capped uint8  // 0: not looked up; 1: not capped; 2: capped to acr
	acr    string // the acr the token counts as having at most, if capped
}

// acrStillMet reports whether the acr of c, which meets the ACR
// requirement r, still does now: when its user's assurance was lowered
// since the token was issued, the user's acr now must meet r too. So a
// lower level refuses the old token where an acr is required, and a
// higher one gives it nothing it did not have.
func (at *instant) acrStillMet(r *Requirement, c *Claims) bool {
	if at.capped == 0 {
		at.capped = 1
		if acr, ok := at.rev.assurance(c, at.now); ok {
			at.capped, at.acr = 2, acr
		}
	}
	return at.capped == 1 || r.acrMet(at.acr)
}

func (i *instant) now() time.Time {
	if i.t.IsZero() {
		i.t = time.Now()
	}
	return i.t
}

// met reports whether c meets r at the instant at.
func (r *Requirement) met(c *Claims, at *instant) bool {
	if r.kind != requireParts {
		return r.leafMet(c, at)
	}
	for i := range r.parts {
		// Parts are mostly leaves: judged here, without a call of met
		// each (this runs on every request).
		p := &r.parts[i]
		var ok bool
		switch p.kind {
		case requireScopes:
			ok = p.scopesMet(c.Scopes)
		case requireACR:
			ok = p.acrMet(c.ACR) && (at.rev == nil || at.acrStillMet(p, c))
		case requireMaxAge:
			ok = p.ageMet(c.AuthTime, at)
		default:
			ok = p.met(c, at)
		}
		if r.all && !ok {
			return false
		}
		if !r.all && ok {
			return true
		}
	}
	return r.all
}

// leafMet is met for a requirement of no parts.
func (r *Requirement) leafMet(c *Claims, at *instant) bool {
	switch r.kind {
	case requireScopes:
		return r.scopesMet(c.Scopes)
	case requireACR:
		return r.acrMet(c.ACR) && (at.rev == nil || at.acrStillMet(r, c))
	case requireMaxAge:
		return r.ageMet(c.AuthTime, at)
	case requirePredicate:
		return r.pred(c)
	}
	return false
}

// scopesMet reports whether the granted scopes meet a scope requirement.
// Matching is exact and case-sensitive (RFC 6749 §3.3).
func (r *Requirement) scopesMet(granted []string) bool {
	if len(r.scopes) == 0 {
		return true
	}
	for _, s := range r.scopes {
		has := slices.Contains(granted, s)
		if r.all && !has {
			return false
		}
		if !r.all && has {
			return true
		}
	}
	return r.all
}

// Check returns nil if c meets r now, or the *Error a request with c
// would be refused with: 403 insufficient_scope naming the scopes, or 401
// insufficient_user_authentication (see Requirement). It allows no
// leeway for auth_time; the Validator allows Config.Leeway. It knows
// nothing of a Validator's revocations, such as a user's lowered
// assurance (Revocation.ACRSubject), which the Validator applies.
func (r Requirement) Check(c *Claims) error {
	var at instant
	if c != nil && r.met(c, &at) {
		return nil
	}
	if c == nil {
		c = &Claims{}
	}
	var s shortfall
	r.short(c, &at, &s)
	return s.err()
}

// require is the requirements stage: the Config.RequiredScopes of a,
// the authority that accepted c, and the route's own
// (Presentation.Require), all of which c must meet at now. A refusal
// names what all the unmet ones ask for, as if they were one AllOf.
func (a *authority) require(c *Claims, route []Requirement, now time.Time) error {
	at := instant{t: now, leeway: a.s.leeway}
	if a.revocations.assuranceChanged() {
		at.rev = a.revocations
	}
	unmet := !a.s.RequiredScopes.met(c, &at)
	for i := range route {
		unmet = unmet || !route[i].met(c, &at)
	}
	if !unmet {
		return nil
	}
	var s shortfall
	if !a.s.RequiredScopes.met(c, &at) {
		a.s.RequiredScopes.short(c, &at, &s)
	}
	for i := range route {
		if !route[i].met(c, &at) {
			route[i].short(c, &at, &s)
		}
	}
	return s.err()
}

// shortfall is what the refusal of an unmet requirement names.
type shortfall struct {
	scopes     []string      // of the unmet scope requirements, whole
	acr        []string      // acceptable acr values
	maxAge     time.Duration // the least max age named; 0 if none
	scopeUnmet bool
	acrUnmet   bool
	ageUnmet   bool
	predUnmet  bool // a Predicate, which is never named
}

// short adds to s what r, which c does not meet, names: each unmet part,
// and with an unmet authentication context the other contexts of the same
// AllOf too, so that one new sign-in meets them all.
func (r *Requirement) short(c *Claims, at *instant, s *shortfall) {
	switch r.kind {
	case requireScopes:
		s.scopeUnmet = true
		for _, sc := range r.scopes {
			if !slices.Contains(s.scopes, sc) {
				s.scopes = append(s.scopes, sc)
			}
		}
	case requireParts:
		acr, age := s.acrUnmet, s.ageUnmet
		s.acrUnmet, s.ageUnmet = false, false
		for i := range r.parts {
			if !r.parts[i].met(c, at) {
				r.parts[i].short(c, at, s)
			}
		}
		if (s.acrUnmet || s.ageUnmet) && r.all {
			for i := range r.parts {
				if k := r.parts[i].kind; k == requireACR || k == requireMaxAge {
					r.parts[i].name(s)
				}
			}
		}
		s.acrUnmet, s.ageUnmet = s.acrUnmet || acr, s.ageUnmet || age
	case requireACR:
		s.acrUnmet = true
		r.name(s)
	case requireMaxAge:
		s.ageUnmet = true
		r.name(s)
	case requirePredicate:
		s.predUnmet = true
	}
}

// name adds the authentication context r asks for to s.
func (r *Requirement) name(s *shortfall) {
	for _, v := range r.acr {
		if !slices.Contains(s.acr, v) {
			s.acr = append(s.acr, v)
		}
	}
	if r.kind == requireMaxAge && (s.maxAge == 0 || r.maxAge < s.maxAge) {
		s.maxAge = r.maxAge
	}
}

// err is the refusal for s.
func (s *shortfall) err() *Error {
	if s.acrUnmet || s.ageUnmet {
		e := errInsufficientUserAuthentication(strings.Join(s.acr, " "), s.maxAge)
		if !s.acrUnmet {
			e.Description = describeMaxAge
		}
		if s.scopeUnmet {
			e.Scope = strings.Join(s.scopes, " ")
		}
		return e
	}
	if s.predUnmet && !s.scopeUnmet {
		return errInsufficientPrivileges()
	}
	return errInsufficientScope(strings.Join(s.scopes, " "))
}
