package bench

import (
	"context"
	"errors"
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
	return &Contender{Validate: validate, close: func() { v.Close() }}, nil
}
