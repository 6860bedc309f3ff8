package bench

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/accesstoken/bearer"
)

// ErrNoCache is returned for a validator with the validated-token cache
// while the core has none (see cache.go).
var ErrNoCache = errors.New("the core has no validated-token cache yet: fill in the TODO(cache) hooks in bench/cache.go")

// BearerConfig is this library's Config for t: the checks of the package
// doc and every other knob at its default.
func BearerConfig(t Target) bearer.Config {
	return bearer.Config{
		Authority:      t.Issuer,
		Audience:       []string{Audience},
		RequiredScopes: bearer.AnyOf(Scope),
	}
}

// NewBearerValidator returns a Validator for t that has fetched the
// authority's metadata and keys. With cache, the validated-token cache is
// on and sized for size tokens (0: the default), or ErrNoCache is
// returned; without, it is off.
func NewBearerValidator(ctx context.Context, t Target, cache bool, size int) (*bearer.Validator, error) {
	cfg := cacheOff(BearerConfig(t))
	if cache {
		var ok bool
		if cfg, ok = cacheOn(BearerConfig(t), size); !ok {
			return nil, ErrNoCache
		}
	}
	v, err := bearer.New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// newBearer is this library's Validate, cold (cache off) or warm (cache
// on; the benchmarks repeat one token, so all but the first call hit).
func newBearer(ctx context.Context, t Target, warm bool) (*Contender, error) {
	v, err := NewBearerValidator(ctx, t, warm, 0)
	if errors.Is(err, ErrNoCache) {
		return &Contender{Pending: "TODO(cache): " + err.Error()}, nil
	}
	if err != nil {
		return nil, err
	}
	validate := func(ctx context.Context, token string) error {
		_, err := v.Validate(ctx, token)
		return err
	}
	return &Contender{Validate: validate, validator: v, close: func() { v.Close() }}, nil
}

// RevocationEntries is how many revocations bearer-revoked holds: what
// 5 000 back-channel logouts leave, a session and, for the tokens without
// sid, its subject each.
const RevocationEntries = 10000

// newBearerRevoked is bearer-warm with RevocationEntries revocations in
// force, none of which matches the benchmark token.
func newBearerRevoked(ctx context.Context, t Target) (*Contender, error) {
	c, err := newBearer(ctx, t, true)
	if err != nil || c.Pending != "" {
		return c, err
	}
	if err := Revoke(ctx, c.validator, RevocationEntries); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Revoke puts n revocations in force in v, as n/2 back-channel logouts
// naming a session and a subject would.
func Revoke(ctx context.Context, v *bearer.Validator, n int) error {
	for i := range n / 2 {
		id := strconv.Itoa(i)
		for _, r := range []bearer.Revocation{{SessionID: "session-" + id}, {Subject: "user-" + id, WithoutSession: true}} {
			if err := v.Revoke(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}
