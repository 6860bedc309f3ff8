package bearer

import (
	"encoding/json"
	"fmt"
	"time"
)

// NewClaims returns the Claims that a token carrying claims gives a
// handler, for unit tests of handlers that read them:
//
//	c, err := bearer.NewClaims(map[string]any{"sub": "alice", "scope": "read", "tenant": "acme"})
//	…
//	req = req.WithContext(bearer.NewContext(req.Context(), c))
//
// The claims are read as a validated token's payload is, with the same
// strict types ("exp": "soon" is an error): the typed fields are set, and
// Map, Decode and MarshalJSON give every claim. A time.Time value is
// written as a NumericDate, seconds since the Unix epoch. Nothing is
// checked beyond types: no signature, issuer, audience or expiry, and no
// claim is required.
func NewClaims(claims map[string]any) (*Claims, error) {
	m := make(map[string]any, len(claims))
	for name, v := range claims {
		if t, ok := v.(time.Time); ok {
			v = t.Unix()
		}
		m[name] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("bearer: NewClaims: %w", err)
	}
	// The claims' strings are slices of raw, which they keep.
	raw := string(b)
	w, err := decodeClaims(raw)
	if err != nil {
		return nil, fmt.Errorf("bearer: NewClaims: %w", err)
	}
	return w.claims(raw), nil
}
