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

// subjectID is a subject identifier (RFC 9493 §3, SSF 1.0 §3): its
// members, with those that are strings or arrays in any format read.
type subjectID struct {
	object
	format, iss, sub, id, jti string
	identifiers               []json.RawMessage // aliases (RFC 9493 §3.2.1): several identifiers of one subject
}

// readSubjectID reads raw; ok is false if it is not an object, or one of
// the members read is of another type.
func readSubjectID(raw json.RawMessage) (w subjectID, ok bool) {
	if w.object, ok = readObject(raw); !ok {
		return w, false
	}
	for name, to := range map[string]*string{"format": &w.format, "iss": &w.iss, "sub": &w.sub, "id": &w.id, "jti": &w.jti} {
		if *to, ok = w.str(name); !ok {
			return w, false
		}
	}
	if ids := w.object["identifiers"]; ids != nil && json.Unmarshal(ids, &w.identifiers) != nil {
		return w, false
	}
	return w, true
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
	if depth > 2 {
		return subject{}, false
	}
	w, ok := readSubjectID(raw)
	if !ok || w.format == "" {
		return subject{}, false
	}
	var s subject
	switch w.format {
	case "iss_sub":
		if w.iss == "" || w.sub == "" {
			return s, false
		}
		s.users = append(s.users, target{issuer: w.iss, subject: w.sub})
	case "opaque":
		if w.id == "" {
			return s, false
		}
		s.users = append(s.users, target{issuer: issuer, subject: w.id})
	case "jwt_id":
		if w.iss == "" || w.jti == "" {
			return s, false
		}
		s.sessions = append(s.sessions, target{issuer: w.iss, tokenID: w.jti})
	case "complex":
		if user := w.object["user"]; user != nil {
			u, ok := readSubject(user, issuer, depth+1)
			if !ok {
				return s, false
			}
			s.users = append(s.users, u.users...)
			s.sessions = append(s.sessions, u.sessions...)
			s.otherSession = u.otherSession
		}
		if session := w.object["session"]; session != nil {
			if sess, ok := sessionOf(session, issuer); ok {
				s.sessions = append(s.sessions, sess)
			} else {
				s.otherSession = true
			}
		}
	case "aliases":
		for _, id := range w.identifiers {
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
	w, ok := readSubjectID(raw)
	if !ok {
		return target{}, false
	}
	switch w.format {
	case "opaque":
		return target{issuer: issuer, session: w.id}, w.id != ""
	case "iss_sub":
		return target{issuer: w.iss, session: w.sub}, w.iss != "" && w.sub != ""
	}
	return target{}, false
}
