package bearer

import (
	"net/http"
	"slices"
	"time"
)

// ACR requires the user to have signed in with one of the given
// authentication context class references (the acr claim, RFC 9470 §6.1):
// exact, case-sensitive matches. A token without acr meets none. Unmet, it
// is a 401 insufficient_user_authentication whose acr_values names them,
// in the order given (the order of preference a client passes on to the
// authority). Arguments are split on spaces as scopes are, and must be
// scope-tokens, which is all an acr_values parameter can carry; ACR()
// requires nothing.
func ACR(values ...string) Requirement {
	acr := cleanScopes(values)
	if len(acr) == 0 {
		return Requirement{}
	}
	return Requirement{kind: requireACR, acr: acr}
}

// ACRAtLeast is ACR(least) for an authority whose acr values are ranked:
// levels lists them weakest first, and a token whose acr is least or a
// value after it in levels meets the requirement. The challenge still
// names least alone. A least that is not one of levels is met by no token
// (New refuses it in Config.RequiredScopes).
func ACRAtLeast(least string, levels []string) Requirement {
	return Requirement{kind: requireACR, acr: []string{least}, levels: slices.Clone(levels)}
}

// MaxAge requires the user to have signed in at most d ago: auth_time
// (RFC 9470 §6.1) no earlier than d, plus Config.Leeway, before now. A
// token without auth_time meets none; nor does one whose auth_time lies
// in the future beyond the leeway. d is taken in whole seconds, as the
// max_age parameter of the challenge carries it; less than a second is
// taken as one.
func MaxAge(d time.Duration) Requirement {
	return Requirement{kind: requireMaxAge, maxAge: max(d.Truncate(time.Second), time.Second)}
}

// acrMet reports whether an ACR requirement accepts acr.
func (r *Requirement) acrMet(acr string) bool {
	if r.levels != nil {
		return r.acrAtLeast(acr)
	}
	return acr != "" && slices.Contains(r.acr, acr)
}

// acrAtLeast is acrMet for ACRAtLeast: acr is the least level or a
// stronger one.
func (r *Requirement) acrAtLeast(acr string) bool {
	if acr == "" {
		return false
	}
	least := slices.Index(r.levels, r.acr[0])
	return least >= 0 && slices.Index(r.levels[least:], acr) >= 0
}

// ageMet reports whether a user who signed in at authTime meets a MaxAge
// requirement at the instant at.
func (r *Requirement) ageMet(authTime time.Time, at *instant) bool {
	if authTime.IsZero() {
		return false
	}
	age := sinceUnix(at.now(), authTime)
	return age >= -at.leeway && age <= r.maxAge+at.leeway
}

// sinceUnix is now.Sub(t) from their Unix seconds and nanoseconds, with
// ages beyond 2^32 s (136 years) either way held at that bound. It runs on
// every request of a MaxAge route, and time.Time.Sub, which detects
// overflow by adding the result back, would cost most of the check.
func sinceUnix(now, t time.Time) time.Duration {
	const far = 1 << 32
	s := now.Unix() - t.Unix()
	switch {
	case t.Unix() < -far || s > far:
		return far * time.Second
	case t.Unix() > far || s < -far:
		return -far * time.Second
	}
	return time.Duration(s)*time.Second + time.Duration(now.Nanosecond()-t.Nanosecond())
}

// Error descriptions of RFC 9470 §3's examples, in this package's case.
const (
	describeACR    = "a different authentication level is required"
	describeMaxAge = "more recent authentication is required"
)

const codeInsufficientUserAuthentication = "insufficient_user_authentication"

// errInsufficientUserAuthentication is the refusal of an unmet
// authentication context (RFC 9470 §3), naming the acr values and the
// max age a new sign-in must meet.
func errInsufficientUserAuthentication(acr string, maxAge time.Duration) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: codeInsufficientUserAuthentication, Description: describeACR,
		ACRValues: acr, MaxAge: maxAge, kind: ErrInsufficientUserAuthentication}
}
