// Package strict lets the library's other packages read signed JSON with
// the root package's one strict reader (jws.go, claimsjson.go) without an
// exported name in the root: package bearer sets these functions when it
// is initialised, and package signals reads SETs with them.
package strict

import "encoding/json"

// Typ returns the typ of a compact JWS's protected header as the root
// package's reader reads it: a base64url header in UTF-8, one JSON object
// that names no member twice nor in another case, and none that would
// choose the key (crit, jku, x5u, x5c; a jwk is left to the verification
// to refuse). ok is false when the reader refuses the header; typ is ""
// when the header has none (or null).
var Typ func(token string) (typ string, ok bool)

// Object reads src, one JSON object and nothing after it, as the root
// package reads a signed payload: at every depth no object names a member
// twice, nor two that are equal when case is folded as encoding/json
// folds it, and every string is UTF-8 without an escaped lone surrogate.
// It returns each member's value as JSON (no whitespace around it), by its
// exact name: a caller that looks members up in the map matches names
// exactly (RFC 7519 §4), where encoding/json would take "ISS" for iss.
var Object func(src []byte) (map[string]json.RawMessage, error)
