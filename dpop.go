package bearer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DPoPMode says whether an API accepts DPoP (RFC 9449) and plain Bearer
// tokens. Whatever the mode, a token bound to a key (cnf.jkt) is never
// accepted without a proof by that key (RFC 9449 §7.2).
type DPoPMode int

const (
	// DPoPAllowed, the default, accepts DPoP-bound tokens with their
	// proofs and unbound tokens as Bearer tokens.
	DPoPAllowed DPoPMode = iota
	// DPoPRequired accepts only DPoP: every token with a proof by the key
	// it is bound to.
	DPoPRequired
	// DPoPDisabled accepts Bearer tokens only: the DPoP scheme is not
	// read, and DPoP-bound tokens are therefore refused.
	DPoPDisabled
)

// defaultDPoPAlgorithms are the proof algorithms accepted unless
// DPoPConfig.Algorithms says otherwise: asymmetric ones only (RFC 9449
// §4.3 point 5).
var defaultDPoPAlgorithms = []string{"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA"}

// defaultDPoPProofAge is how old a proof's iat may be, beyond
// Config.Leeway, unless DPoPConfig.ProofAge says otherwise.
const defaultDPoPProofAge = time.Minute

// DPoPConfig configures DPoP (RFC 9449). Its zero value is DPoPAllowed
// with the default algorithms, proofs up to a minute old for the origin
// the request names, no server nonces, and replayed proofs remembered in
// this process (or in Config.RevocationStore when it is set).
type DPoPConfig struct {
	// Mode is DPoPAllowed (zero), DPoPRequired or DPoPDisabled.
	Mode DPoPMode
	// Algorithms are the proof algorithms accepted; default ES256/384/512,
	// PS256/384/512, RS256/384/512 and EdDSA. HS* and none are refused by New.
	Algorithms []string
	// ProofAge is how long after its iat a proof is accepted (plus
	// Config.Leeway, which also applies to an iat in the future); zero
	// means a minute. A proof's jti is remembered that long.
	ProofAge time.Duration
	// NonceSecret, at least 32 bytes, turns server nonces on (§9): every
	// proof must then carry a nonce this API issued less than NonceLifetime
	// ago, and responses to DPoP requests carry the next one in
	// DPoP-Nonce. Nonces are stateless (a time and random bytes under an
	// HMAC with this secret), so every replica sharing the secret accepts
	// those of the others.
	NonceSecret []byte
	// NonceLifetime is how long an issued nonce is accepted; zero means
	// 5 minutes.
	NonceLifetime time.Duration
	// Origins are the API's public origins, such as
	// "https://api.example.com": scheme, host and a port other than the
	// default, nothing else. When set, a proof's htu must name one of
	// them, with the request's path: the Host the request carries (or a
	// proxy forwards) is not looked at, so a proof made for another origin
	// is refused however the request names its host. When empty, htu must
	// name the request's own scheme and host (Presentation.URL), which the
	// client chooses. Set it whenever the API has known names.
	Origins []string
}

// seenStore remembers the proofs seen, so that each is accepted once:
// Config.RevocationStore, or the memory of this process.
type seenStore interface {
	FirstSeen(ctx context.Context, id string, expires time.Time) (bool, error)
}

// dpopSettings is DPoPConfig checked, with its defaults.
type dpopSettings struct {
	mode       DPoPMode
	algorithms []string
	algs       string // for the challenge: the algorithms, space-separated
	proofAge   time.Duration
	leeway     time.Duration
	nonces     *nonces  // nil when nonces are off
	origins    []string // normalised; nil for the request's own
	replay     seenStore
}

// settings checks c; replay remembers the proofs (nil: a memory of its
// own).
func (c DPoPConfig) settings(leeway time.Duration, replay seenStore) (*dpopSettings, error) {
	d := &dpopSettings{mode: c.Mode, algorithms: c.Algorithms, proofAge: c.ProofAge, leeway: leeway, replay: replay}
	if c.Mode < DPoPAllowed || c.Mode > DPoPDisabled {
		return nil, fmt.Errorf("bearer: unknown Config.DPoP.Mode %d", int(c.Mode))
	}
	if len(d.algorithms) == 0 {
		d.algorithms = defaultDPoPAlgorithms
	}
	for _, alg := range d.algorithms {
		if !slices.Contains(defaultDPoPAlgorithms, alg) {
			return nil, fmt.Errorf("bearer: Config.DPoP.Algorithms: %q is not an asymmetric algorithm this package verifies", alg)
		}
	}
	d.algs = strings.Join(d.algorithms, " ")
	switch {
	case d.proofAge < 0:
		return nil, errors.New("bearer: Config.DPoP.ProofAge is negative")
	case d.proofAge == 0:
		d.proofAge = defaultDPoPProofAge
	}
	if c.NonceSecret != nil || c.NonceLifetime != 0 {
		n, err := newNonces(c.NonceSecret, c.NonceLifetime, leeway)
		if err != nil {
			return nil, err
		}
		d.nonces = n
	}
	for _, o := range c.Origins {
		origin, path, ok := normalURI(o)
		if u, _ := url.Parse(o); !ok || path != "/" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
			return nil, fmt.Errorf("bearer: Config.DPoP.Origins: %q is not an http or https origin (scheme://host[:port])", o)
		}
		d.origins = append(d.origins, origin)
	}
	if d.replay == nil {
		d.replay = newMemoryRevocations()
	}
	return d, nil
}

// defaultDPoP is the presentation's of a Validator of several
// authorities (NewMulti), until the token names its authority.
var defaultDPoP, _ = DPoPConfig{}.settings(defaultLeeway, nil)

// DPoPNonce returns a fresh nonce for the DPoP-Nonce field of a response
// (RFC 9449 §9), or "" when nonces are off. The middleware sends one with
// every response to a DPoP request.
func (v *Validator) DPoPNonce() string {
	if v.dpop.nonces == nil {
		return ""
	}
	return v.dpop.nonces.issue(time.Now())
}

// refuse sets on e the challenges of the refusal: that of the scheme the
// request used (dpop) comes first and carries the error; the other
// scheme's follows when both are accepted. In DPoPAllowed mode a Bearer
// request's refusal names DPoP too only when the token was DPoP-bound
// (dpopBound), so that clients of plain Bearer APIs see what they always
// have.
func (d *dpopSettings) refuse(err error, dpop bool, dpopBound ...bool) *Error {
	e := AsError(err)
	if e.Status != 400 && e.Status != 401 && e.Status != 403 {
		return e
	}
	e = e.copy()
	switch {
	case d.mode == DPoPDisabled:
		return e
	case d.mode == DPoPRequired:
		e.challenge = challengeDPoP
	case dpop:
		e.challenge = challengeDPoPThenBearer
	case len(dpopBound) > 0:
		e.challenge = challengeBearerThenDPoP
	default:
		return e
	}
	e.algs = d.algs
	if d.nonces != nil {
		e.DPoPNonce = d.nonces.issue(time.Now())
	}
	return e
}

// accessTokenHash is ath: the base64url SHA-256 of the token (§4.2).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
