package bearer

import (
	"context"
	"time"

	"github.com/accesstoken/bearer/internal/alphabet"
	"github.com/accesstoken/bearer/observe"
)

// Where a validation's answer came from: see observe.Validation.Source.
const (
	sourceNone          = ""
	sourceCache         = "cache"
	sourceLocal         = "local"
	sourceIntrospection = "introspection"
)

// What caused a fetch: see observe.Refresh.Trigger.
const (
	triggerStart      = "start"
	triggerRetry      = "retry"
	triggerRequest    = "request"
	triggerInterval   = "interval"
	triggerUnknownKid = "unknown_kid"
	triggerStale      = "stale"
)

// observed is Validate with an Observer: it times the validation and
// reports it.
func (v *Validator) observed(ctx context.Context, p Presentation) (*Claims, error) {
	start := time.Now()
	c, source, err := v.check(ctx, &p)
	format := "opaque"
	switch {
	case p.Token == "" || err != nil && isBearerField(&p) && !alphabet.IsB64Token(p.Token):
		// A token refused for its syntax is none to tell the format of,
		// as when the transport refused it (Presentation.Err).
		format = ""
	case looksLikeJWS(p.Token):
		format = "jwt"
	}
	scheme := "Bearer"
	if alphabet.IsScheme(p.Scheme, "DPoP") {
		scheme = "DPoP"
	}
	v.obs.Validated(ctx, observe.Validation{Format: format, Scheme: scheme, Source: source, Err: err, Start: start, Duration: time.Since(start)})
	return c, err
}

// causeOf keeps the values of ctx, a request's, for an Observer told of
// work the request caused but that outlives it.
func causeOf(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return context.WithoutCancel(ctx)
}
