package conformance

import (
	"context"
	"sync"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/observe"
)

// Validations is an observe.Observer that keeps the validations reported,
// for the tests of each transport that every refusal is counted once.
type Validations struct {
	mu  sync.Mutex
	all []observe.Validation
}

// Validated keeps v.
func (o *Validations) Validated(_ context.Context, v observe.Validation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, v)
}

// Refreshed ignores r.
func (o *Validations) Refreshed(context.Context, observe.Refresh) {}

// Introspected ignores c.
func (o *Validations) Introspected(context.Context, observe.IntrospectionCall) {}

// Len returns how many validations were reported.
func (o *Validations) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.all)
}

// Since returns the validations reported after the first n.
func (o *Validations) Since(n int) []observe.Validation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observe.Validation(nil), o.all[n:]...)
}

// NewObserved returns a ready Validator of a (audience "api") that
// reports to the Validations returned, closed when t ends.
func NewObserved(t testing.TB, a *bearertest.Authority) (*bearer.Validator, *Validations) {
	t.Helper()
	obs := &Validations{}
	v := newValidator(t, bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Observer: obs, Logger: quiet})
	ready(t, v)
	return v, obs
}
