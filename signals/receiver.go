// Package signals receives OpenID Shared Signals (SSF 1.0, CAEP 1.0,
// RISC 1.0) and turns them into refused tokens: a transmitter (an identity
// provider, a device manager) tells the API that a session was revoked, a
// password changed or an account was disabled, and the API's
// bearer.Validator refuses the tokens concerned at once, on every replica
// that shares its bearer.RevocationStore, instead of honouring them until
// they expire.
//
// A Receiver verifies each Security Event Token (RFC 8417) with the
// transmitter's keys through the Validator's own JWS reader and key
// handling, reads its subject (RFC 9493), applies the events it knows as
// bearer.Revocation values (see docs/shared-signals.md for the table),
// acknowledges the others, and remembers each jti in the RevocationStore
// so that a SET is processed once across replicas. It takes push delivery
// (RFC 8935: mount the Receiver as an http.Handler) and poll delivery
// (RFC 8936: Poll), and manages its stream at the transmitter (SSF 1.0
// §8: CreateStream, ReadStream, UpdateStream, Verify).
package signals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/accesstoken/bearer"
)

// Config configures a Receiver. Transmitter, Audience and Validator are
// required.
type Config struct {
	// Transmitter is the transmitter's issuer URL: SETs must name it in
	// iss, exactly, and its metadata is read from
	// /.well-known/ssf-configuration under it (SSF 1.0 §7.2).
	Transmitter string

	// JWKSURL, if set, is where the transmitter publishes its keys, and
	// its metadata is read only for stream management. By default the
	// metadata's jwks_uri.
	JWKSURL string

	// Audience is this receiver as the transmitter names it in aud (the
	// stream's aud); a SET must name it.
	Audience string

	// Validator is the API's: the revocations events call for are made
	// with its Revoke, so they reach every replica through its
	// RevocationStore.
	Validator *bearer.Validator

	// Store records the jti of each SET processed, so that one delivered
	// twice, to this replica or another, is processed once. Give it the
	// Validator's Config.RevocationStore (stores/redis for replicas). nil:
	// this process's memory, enough for one replica.
	Store bearer.RevocationStore

	// Issuer is the issuer of the access tokens whose subjects and
	// sessions the transmitter names without an issuer (opaque
	// identifiers, and the sessions of complex subjects). Default:
	// Transmitter, as when the identity provider is the transmitter.
	// Subjects of format iss_sub and jwt_id name their issuer themselves.
	Issuer string

	// AssuranceACR maps the level of a CAEP assurance-level-change
	// (current_level in namespace, CAEP 1.0 §3.4.1, such as "NIST-AAL"
	// and "nist-aal1", or a namespace agreed with the transmitter) to the
	// acr value of the API's authority it stands for, as the API's
	// step-up requirements (bearer.ACR, bearer.ACRAtLeast) name them; ""
	// meets none. Default: the level itself, for a transmitter that
	// speaks in the authority's acr values. A level that is no acr value
	// meets no acr requirement, so an unknown level is a lower one.
	AssuranceACR func(namespace, level string) string

	// PushAuthorization, if set, is the Authorization header value the
	// transmitter must send with each push (the stream's
	// delivery.authorization_header); other pushes get 401
	// authentication_failed.
	PushAuthorization string

	// MaxAge is how old a SET's iat may be: older SETs are refused, and a
	// jti is remembered that long. Default 24 hours; make it longer than
	// the longest time a poll stream may hold events back.
	MaxAge time.Duration

	// Leeway is the clock skew tolerated on iat; default 1 minute.
	Leeway time.Duration

	// Timeout bounds each call to the transmitter (metadata, keys, stream
	// management); default 10 seconds. A long poll waits up to PollWait
	// beyond it.
	Timeout time.Duration

	// HTTPClient calls the transmitter. Stream management and polling
	// need the receiver's credentials at the transmitter: give a client
	// that sends them (golang.org/x/oauth2's, or a Transport that sets
	// Authorization). Default http.DefaultClient.
	HTTPClient *http.Client

	// Logger receives what the receiver applies (at Info), refused SETs
	// (at Debug: anyone can post them) and store failures (at Warn).
	// Default slog.Default().
	Logger *slog.Logger
}

// Receiver receives a transmitter's SETs and applies them to a
// Validator. Make one with New; it is safe for concurrent use.
type Receiver struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	seen   seenStore
	ctx    context.Context
	cancel context.CancelFunc

	// The transmitter, discovered on first need.
	mu      sync.Mutex
	md      *metadata
	keys    *bearer.Validator // holds the transmitter's keys: see keyRing
	lastTry time.Time
	lastErr error

	// verifications waiting for their state (stream.go).
	vmu     sync.Mutex
	waiting map[string]chan struct{}
}

// seenStore is the part of a bearer.RevocationStore a Receiver uses.
type seenStore interface {
	FirstSeen(ctx context.Context, id string, expires time.Time) (bool, error)
}

// New checks cfg and returns a Receiver. It does not contact the
// transmitter: its metadata and keys are fetched when first needed, and
// SETs that arrive while it cannot be reached get 503 (push) or wait
// (poll). Close ends its background work.
func New(ctx context.Context, cfg Config) (*Receiver, error) {
	if cfg.Validator == nil {
		return nil, errors.New("signals: Config.Validator is required")
	}
	if cfg.Audience == "" {
		return nil, errors.New("signals: Config.Audience is required")
	}
	if err := checkURL(cfg.Transmitter); err != nil {
		return nil, fmt.Errorf("signals: Config.Transmitter: %w", err)
	}
	if cfg.JWKSURL != "" {
		if err := checkURL(cfg.JWKSURL); err != nil {
			return nil, fmt.Errorf("signals: Config.JWKSURL: %w", err)
		}
	}
	if cfg.MaxAge < 0 || cfg.Leeway < 0 || cfg.Timeout < 0 {
		return nil, errors.New("signals: Config.MaxAge, Leeway and Timeout may not be negative")
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 24 * time.Hour
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = time.Minute
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Issuer == "" {
		cfg.Issuer = cfg.Transmitter
	}
	r := &Receiver{cfg: cfg, client: cfg.HTTPClient, log: cfg.Logger, waiting: make(map[string]chan struct{})}
	if r.client == nil {
		r.client = http.DefaultClient
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if cfg.Store != nil {
		r.seen = cfg.Store
	} else {
		r.seen = newMemorySeen()
	}
	r.ctx, r.cancel = context.WithCancel(ctx)
	return r, nil
}

// checkURL accepts an absolute http(s) URL without query or fragment.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute http(s) URL without query or fragment", s)
	}
	return nil
}

// Close stops the receiver's background work (the refresh of the
// transmitter's keys) and waits for it. A Poll under way returns.
func (r *Receiver) Close() error {
	r.cancel()
	r.mu.Lock()
	keys := r.keys
	r.mu.Unlock()
	if keys != nil {
		return keys.Close()
	}
	return nil
}

// wellKnown returns the URL of the transmitter's metadata: the well-known
// suffix goes between the host and the issuer's path (SSF 1.0 §7.2.1).
func wellKnown(issuer string) string {
	u, _ := url.Parse(issuer)
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	u.Path, u.RawPath = "", ""
	return u.String() + "/.well-known/ssf-configuration" + path
}
