package signals

import (
	"encoding/json"

	"github.com/accesstoken/bearer/internal/strict"
)

// object is a JSON object of a SET (its claims, an event, a subject) read
// by the Validator's strict reader (internal/strict): members by their
// exact names, never two in one object, so that what this package acts on
// is what the transmitter signed, as any other strict reader reads it.
// encoding/json would take "SUB_ID" for sub_id, or "Format" for format.
type object map[string]json.RawMessage

// readObject reads raw, one JSON object; ok is false for anything else.
func readObject(raw []byte) (o object, ok bool) {
	m, err := strict.Object(raw)
	return m, err == nil
}

// str returns the string member name, "" if it is absent or null; ok is
// false if it is another type.
func (o object) str(name string) (s string, ok bool) {
	raw := o[name]
	if raw == nil || string(raw) == "null" {
		return "", true
	}
	return s, raw[0] == '"' && json.Unmarshal(raw, &s) == nil
}

// number returns the number member name, nil if it is absent or null; ok
// is false if it is another type, a string of digits included (a
// NumericDate is a JSON number, RFC 7519 §2).
func (o object) number(name string) (n *json.Number, ok bool) {
	raw := o[name]
	if raw == nil || string(raw) == "null" {
		return nil, true
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return nil, false
	}
	v := json.Number(raw)
	return &v, true
}
