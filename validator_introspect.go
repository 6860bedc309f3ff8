package bearer

import "context"

// introspect validates a reference token at the introspection endpoint.
// Until introspection is configured, a token that is not a JWS is invalid.
func (v *Validator) introspect(ctx context.Context, token string) (*Claims, error) {
	return nil, errInvalidToken(ErrMalformed)
}
