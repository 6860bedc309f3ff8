package bearer

import (
	"encoding/json"
	"errors"
)

// AuthorizationDetail is one entry of a token's authorization_details (RFC
// 9396 §2): what exactly the client was authorised to do. The members
// RFC 9396 defines for every type are read into fields; the type-specific
// ones (an amount, a creditor, …) are in Raw, for the API to decode into a
// type of its own:
//
//	var p struct {
//		InstructedAmount struct {
//			Currency string `json:"currency"`
//			Amount   string `json:"amount"`
//		} `json:"instructedAmount"`
//	}
//	err := json.Unmarshal(d.Raw, &p)
type AuthorizationDetail struct {
	Type       string   // type, always present
	Locations  []string // locations: URIs of the resources
	Actions    []string // actions: what may be done to them
	Datatypes  []string // datatypes: kinds of data that may be asked for
	Identifier string   // identifier: one resource of the API
	Privileges []string // privileges: levels of access
	// Raw is the entry as issued: a JSON object that was read under the
	// same rules as the claims (exact names, no duplicates, UTF-8).
	Raw json.RawMessage
}

// AuthorizationDetails returns the token's authorization_details, from a
// JWT or an introspection answer, in the order issued; nil if it has none.
// Each call reads them again from the claims as issued, so a handler that
// needs them twice keeps the result.
//
// A token whose authorization_details is not an array of objects, each
// with a string type and the common members of RFC 9396 §2 well-typed, is
// refused when validated: 401 invalid_token (ErrMalformed) in a JWT, 503
// in an introspection answer, as any wrongly typed member of one. The
// authorization server must give them the structure of RFC 9396 §2 (§9),
// so one that did not is not trusted to have meant what the entries say;
// and read as absent, they would let an API that refuses certain entries
// accept them.
func (c *Claims) AuthorizationDetails() []AuthorizationDetail {
	raw := rawMember(c.raw, "authorization_details")
	if raw == "" {
		return nil
	}
	list, _ := parseDetails(raw)
	return list
}

// errDetails: authorization_details is not an array of well-formed
// entries (RFC 9396 §2).
var errDetails = errors.New("authorization_details is not an array of objects each with a string type")

// detailMembers are the members RFC 9396 §2 defines for every type.
var detailMembers = []string{"type", "locations", "actions", "datatypes", "identifier", "privileges"}

// parseDetails reads raw, the JSON value of authorization_details, which
// must be an array of entries; null is no entries.
func parseDetails(raw string) ([]AuthorizationDetail, error) {
	sc := newScanner(raw)
	s := &sc
	if s.isNull() {
		return nil, nil
	}
	if s.expect('[') != nil {
		return nil, errDetails
	}
	list := []AuthorizationDetail{}
	if s.peek() == ']' {
		s.i++
		return list, nil
	}
	for {
		if s.peek() != '{' {
			return nil, errDetails
		}
		entry, err := s.rawValue()
		if err != nil {
			return nil, err
		}
		d, err := parseDetail(entry)
		if err != nil {
			return nil, err
		}
		list = append(list, d)
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return list, nil
		default:
			return nil, errJSON
		}
	}
}

// Bits of the members of an entry.
const (
	seenDetailType = 1 << iota
	seenLocations
	seenActions
	seenDatatypes
	seenIdentifier
	seenPrivileges
)

// parseDetail reads one entry, a JSON object.
func parseDetail(entry string) (AuthorizationDetail, error) {
	d := AuthorizationDetail{Raw: json.RawMessage(entry)}
	m := readMembers(entry, detailMembers)
	for m.next() {
		m.took(d.member(&m.s, m.name))
	}
	if err := m.end(); err != nil {
		return AuthorizationDetail{}, err
	}
	if m.seen&seenDetailType == 0 {
		return AuthorizationDetail{}, errDetails
	}
	return d, nil
}

func (d *AuthorizationDetail) member(s *jsonScanner, name []byte) (uint, error) {
	var err error
	switch string(name) {
	case "type":
		// Required, so null is no type.
		if s.peek() != '"' {
			return 0, errDetails
		}
		d.Type, err = s.str()
		return seenDetailType, err
	case "identifier":
		d.Identifier, err = s.optString()
		return seenIdentifier, err
	case "locations":
		d.Locations, err = s.stringArray()
		return seenLocations, err
	case "actions":
		d.Actions, err = s.stringArray()
		return seenActions, err
	case "datatypes":
		d.Datatypes, err = s.stringArray()
		return seenDatatypes, err
	case "privileges":
		d.Privileges, err = s.stringArray()
		return seenPrivileges, err
	}
	return 0, s.skip(0)
}

// stringArray reads an array of strings; null is no value. Unlike
// strings, it refuses a lone string: RFC 9396 §2 defines arrays.
func (s *jsonScanner) stringArray() ([]string, error) {
	if s.peek() == '"' {
		return nil, errDetails
	}
	list, _, err := s.strings()
	return list, err
}
