// Package jwsheader lets the library's other packages read a JWS header
// with the root package's one strict reader (jws.go) without an exported
// name in the root: package bearer sets Typ when it is initialised, and
// package signals judges a SET's typ with it.
package jwsheader

// Typ returns the typ of a compact JWS's protected header as the root
// package's reader reads it: a base64url header in UTF-8, one JSON object
// that names no member twice nor in another case, and none that would
// choose the key (crit, jku, x5u, x5c; a jwk is left to the verification
// to refuse). ok is false when the reader refuses the header; typ is ""
// when the header has none (or null).
var Typ func(token string) (typ string, ok bool)
