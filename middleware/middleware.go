// Package middleware protects net/http handlers with a bearer.Validator.
//
//	protect := middleware.New(v, middleware.Realm("values"))
//	mux.Handle("GET /values", protect(http.HandlerFunc(values)))
//	mux.Handle("POST /admin", middleware.New(v, middleware.Require(bearer.AllOf("admin")))(http.HandlerFunc(admin)))
//
// New takes and returns an http.Handler, so a handler written as a function
// is wrapped in http.HandlerFunc.
//
// Requests without a token get 401 with a bare challenge, bad or malformed
// tokens 401 invalid_token, missing scopes 403 insufficient_scope,
// malformed requests (a token presented twice) 400 invalid_request and an
// unreachable authority 503: see bearer.WriteError. ErrorHandler renders
// those refusals the application's way (application/problem+json, …)
// while the challenge stays the library's.
//
// The guarded handler never runs for a request without a valid token,
// unless Optional was given. That holds for CORS preflights too: browsers
// send them without credentials, so mount a CORS handler in front of the
// guard, which answers preflights itself (github.com/rs/cors, or the
// framework's own CORS middleware):
//
//	c := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example"}, AllowedHeaders: []string{"Authorization"}})
//	http.ListenAndServe(addr, c.Handler(mux)) // mux's routes are guarded
package middleware

import (
	"log/slog"
	"net/http"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/refusal"
)

// New returns middleware that admits only requests with a valid token and
// puts its claims on the request context (bearer.ClaimsFromContext). The
// token is read from the Authorization header; other sources are opt-in.
func New(v *bearer.Validator, opts ...Option) func(http.Handler) http.Handler {
	o := &options{realm: DefaultRealm}
	for _, opt := range opts {
		opt(o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The field's key is canonical already, so the map is read
			// directly, once: Header.Values would canonicalise it each time.
			token, scheme, err := o.extract(w, r, r.Header["Authorization"])
			if err == nil && token == "" && o.optional {
				next.ServeHTTP(w, r)
				return
			}
			// A request refused already goes to the Validator too, which
			// gives the refusal the challenges of its DPoP mode.
			p := o.presentation(r, token, scheme)
			p.Err = err
			claims, err := v.ValidatePresentation(r.Context(), p)
			if err != nil {
				o.fail(w, r, token, err)
				return
			}
			if p.Scheme == "DPoP" {
				// RFC 9449 §9: the nonce for the client's next proof.
				if nonce := v.DPoPNonce(); nonce != "" {
					w.Header().Set("DPoP-Nonce", nonce)
					w.Header().Add("Access-Control-Expose-Headers", "DPoP-Nonce")
				}
			}
			if o.onValidated != nil {
				o.onValidated(r, claims)
			}
			next.ServeHTTP(w, r.WithContext(bearer.NewContext(r.Context(), claims)))
		})
	}
}

func (o *options) fail(w http.ResponseWriter, r *http.Request, token string, err error) {
	e := bearer.AsError(err)
	if o.onFailed != nil {
		o.onFailed(r, e)
	}
	// Every refusal is logged at debug: the Validator logs an outage of
	// the authority once, when it begins and when it ends, so a warning
	// per request would only repeat it, thousands of times a second.
	const level = slog.LevelDebug
	if o.logger.Enabled(r.Context(), level) {
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", e.Status, "error", e.Error()}
		if token != "" {
			attrs = append(attrs, "token", bearer.Fingerprint(token))
		}
		o.logger.Log(r.Context(), level, "bearer: request refused", attrs...)
	}
	if o.render == nil {
		bearer.WriteError(w, o.realm, e, o.challenge...)
		return
	}
	challenges := e.Challenges(o.realm, o.challenge...)
	refusal.SetHeaders(w.Header(), e.Status, challenges[0], e.RetryAfter)
	refusal.AddDPoP(w.Header(), e.Status, challenges[1:], e.DPoPNonce)
	rw := &renderWriter{ResponseWriter: w}
	o.render(rw, r, e)
	if !rw.wrote {
		w.WriteHeader(e.Status)
	}
}

// renderWriter notes whether an ErrorHandler wrote a response, so that one
// that writes nothing still answers with the refusal's status, not 200.
type renderWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *renderWriter) WriteHeader(status int) {
	// 1xx responses are informational: the final status is still to come.
	w.wrote = w.wrote || status >= 200
	w.ResponseWriter.WriteHeader(status)
}

func (w *renderWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *renderWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
