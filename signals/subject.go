package signals

import "encoding/json"

// target is what a subject identifier names among the API's tokens: a
// user (the sub of an issuer's tokens), a session (their sid), or one
// token (its jti). Formats that name none of these (email, phone_number,
// account, did, uri, a device, a tenant) name no token: an API's access
// tokens do not carry them in a claim the Validator matches.
type target struct {
	issuer  string
	subject string // sub
	session string // sid
	tokenID string // jti
}

// wireSubject is a subject identifier (RFC 9493 §3, SSF 1.0 §3), every
// format's members in one struct.
type wireSubject struct {
	Format string `json:"format"`
	Iss    string `json:"iss"`
	Sub    string `json:"sub"`
	ID     string `json:"id"`
	Jti    string `json:"jti"`

	// complex (SSF 1.0 §3.2): each member a subject of its own.
	User           json.RawMessage `json:"user"`
	SessionSubject json.RawMessage `json:"session"`

	// aliases (RFC 9493 §3.2.1): several identifiers of one subject.
	Identifiers []json.RawMessage `json:"identifiers"`
}

// users and sessions are what a subject names: the users it names, and
// the sessions (or single tokens) within them.
type subject struct {
	users    []target
	sessions []target // session or tokenID set
	// otherSession: a complex subject names a session in a format that
	// names no sid; an event about it must not fall back to its user.
	otherSession bool
}

// readSubject reads a subject identifier; issuer is the issuer of
// identifiers that name none (opaque ones, sessions). A format it does not
// know, or one naming no token, names nothing: such an event is
// acknowledged and applies to no token, since nothing here could match it.
// depth bounds complex and aliases subjects nested in each other.
func readSubject(raw json.RawMessage, issuer string, depth int) (subject, bool) {
	var w wireSubject
	if depth > 2 || !isObject(raw) || json.Unmarshal(raw, &w) != nil || w.Format == "" {
		return subject{}, false
	}
	var s subject
	switch w.Format {
	case "iss_sub":
		if w.Iss == "" || w.Sub == "" {
			return s, false
		}
		s.users = append(s.users, target{issuer: w.Iss, subject: w.Sub})
	case "opaque":
		if w.ID == "" {
			return s, false
		}
		s.users = append(s.users, target{issuer: issuer, subject: w.ID})
	case "jwt_id":
		if w.Iss == "" || w.Jti == "" {
			return s, false
		}
		s.sessions = append(s.sessions, target{issuer: w.Iss, tokenID: w.Jti})
	case "complex":
		if w.User != nil {
			u, ok := readSubject(w.User, issuer, depth+1)
			if !ok {
				return s, false
			}
			s.users = append(s.users, u.users...)
			s.sessions = append(s.sessions, u.sessions...)
			s.otherSession = u.otherSession
		}
		if w.SessionSubject != nil {
			if sess, ok := sessionOf(w.SessionSubject, issuer); ok {
				s.sessions = append(s.sessions, sess)
			} else {
				s.otherSession = true
			}
		}
	case "aliases":
		for _, id := range w.Identifiers {
			a, ok := readSubject(id, issuer, depth+1)
			if !ok {
				continue
			}
			s.users = append(s.users, a.users...)
			s.sessions = append(s.sessions, a.sessions...)
			s.otherSession = s.otherSession || a.otherSession
		}
	}
	return s, true
}

// sessionOf reads the session member of a complex subject: an opaque
// identifier, the session's sid (SSF 1.0 §3.2's examples), or an iss_sub
// whose sub is the sid at iss. Any other names no sid.
func sessionOf(raw json.RawMessage, issuer string) (target, bool) {
	var w wireSubject
	if !isObject(raw) || json.Unmarshal(raw, &w) != nil {
		return target{}, false
	}
	switch w.Format {
	case "opaque":
		return target{issuer: issuer, session: w.ID}, w.ID != ""
	case "iss_sub":
		return target{issuer: w.Iss, session: w.Sub}, w.Iss != "" && w.Sub != ""
	}
	return target{}, false
}
