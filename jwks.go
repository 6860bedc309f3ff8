package bearer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
)

// publicKey is one verification key with the metadata that limits its use.
type publicKey struct {
	kid string
	alg string   // empty: any algorithm of the key's type
	use string   // empty or "sig"
	ops []string // key_ops; empty means unrestricted
	key crypto.PublicKey

	// retired is set once the key is no longer published, so that tokens
	// it verified are no longer served from the cache.
	retired atomic.Bool
}

// sameAs reports whether k and o are the same published key.
func (k *publicKey) sameAs(o *publicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := k.key.(equaler)
	return ok && k.kid == o.kid && k.alg == o.alg && k.use == o.use && slices.Equal(k.ops, o.ops) && e.Equal(o.key)
}

// fits reports whether the key may verify a JWS with alg. The algorithm
// family must match the key type and curve, so an RSA key can never serve
// as an HMAC secret, nor a P-256 key for ES512.
func (k *publicKey) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	if k.use != "" && k.use != "sig" {
		return false
	}
	if len(k.ops) > 0 && !slices.Contains(k.ops, "verify") {
		return false
	}
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return key.Curve == elliptic.P256()
		case "ES384":
			return key.Curve == elliptic.P384()
		case "ES512":
			return key.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// newPublicKey checks that key is a usable public key and wraps it.
func newPublicKey(kid, alg, use string, ops []string, key crypto.PublicKey) (*publicKey, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is shorter than %d", k.N.BitLen(), minRSABits)
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521() {
			return nil, errors.New("unsupported elliptic curve")
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	return &publicKey{kid: kid, alg: alg, use: use, ops: ops, key: key}, nil
}

// parseJWKS reads a JWK Set. A key that cannot be used is skipped (and
// reported), so one odd key does not take the others down with it.
func parseJWKS(body []byte) (keys []*publicKey, skipped []error, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("JWK Set: %w", err)
	}
	if doc.Keys == nil {
		return nil, nil, errors.New(`JWK Set: no "keys" member`)
	}
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

// parseJWK reads one public JWK. Private members, if an authority
// publishes them by mistake, are ignored; symmetric keys are refused.
func parseJWK(raw []byte) (*publicKey, error) {
	var m jwkset.JWKMarshal
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m.KTY == jwkset.KtyOct {
		return nil, errors.New("symmetric keys are not accepted from a JWK Set")
	}
	// Only public members go to jwkset, so a stray "d" can neither be
	// loaded nor make the key fail validation.
	m.D, m.P, m.Q, m.DP, m.DQ, m.QI, m.K, m.OTH = "", "", "", "", "", "", "", nil
	// x5u would make jwkset fetch a URL; a key set must be self-contained.
	if m.X5U != "" {
		return nil, errors.New("x5u is not supported")
	}
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return nil, err
	}
	ops := make([]string, len(m.KEYOPS))
	for i, op := range m.KEYOPS {
		ops[i] = string(op)
	}
	return newPublicKey(m.KID, string(m.ALG), string(m.USE), ops, jwk.Key())
}

// keySet holds the authority's signing keys: a snapshot replaced whole on
// each successful fetch, so readers never lock. The last good snapshot
// stays in use while the JWKS endpoint fails.
type keySet struct {
	url     string // empty for static keys
	client  *http.Client
	log     *slog.Logger
	timeout time.Duration
	window  time.Duration
	ctx     context.Context // ends with the Validator

	keys atomic.Pointer[[]*publicKey]

	mu            sync.Mutex
	flight        chan struct{} // non-nil while a fetch runs; closed when it ends
	lastErr       error         // result of the latest fetch
	lastTriggered time.Time     // latest fetch caused by an unknown kid
	wg            *sync.WaitGroup
}

func staticKeySet(keys []*publicKey) *keySet {
	ks := &keySet{}
	ks.keys.Store(&keys)
	return ks
}

// maxCandidates bounds the signature checks one token can cause when kids
// are absent or duplicated.
const maxCandidates = 4

// candidates returns the keys that may verify a token with kid and alg.
// Keys without a kid (static keys, some JWK Sets) fit any kid.
func (ks *keySet) candidates(kid, alg string) []*publicKey {
	snapshot := ks.keys.Load()
	if snapshot == nil {
		return nil
	}
	var out []*publicKey
	for _, k := range *snapshot {
		if (kid == "" || k.kid == "" || k.kid == kid) && k.fits(alg) {
			out = append(out, k)
			if len(out) == maxCandidates {
				break
			}
		}
	}
	return out
}

// lookup returns the keys for kid and alg. An unknown kid triggers a fetch
// of the JWKS that the request waits for, so a key published after the
// last fetch verifies the very token that revealed it. Such fetches are
// shared by concurrent callers and started at most once per window.
func (ks *keySet) lookup(ctx context.Context, kid, alg string) ([]*publicKey, error) {
	if c := ks.candidates(kid, alg); len(c) > 0 {
		return c, nil
	}
	if ks.url == "" {
		return nil, errInvalidToken(ErrUnknownKey)
	}
	ks.mu.Lock()
	flight := ks.flight
	if flight == nil {
		if time.Since(ks.lastTriggered) < ks.window {
			err := ks.lastErr
			ks.mu.Unlock()
			return nil, ks.missing(err)
		}
		ks.lastTriggered = time.Now()
		flight = ks.startFetchLocked()
	}
	ks.mu.Unlock()
	if err := ks.wait(ctx, flight); err != nil {
		return nil, err
	}
	if c := ks.candidates(kid, alg); len(c) > 0 {
		return c, nil
	}
	ks.mu.Lock()
	err := ks.lastErr
	ks.mu.Unlock()
	return nil, ks.missing(err)
}

// missing is the error for a key not found: the token is to blame only if
// the key set could be fetched.
func (ks *keySet) missing(fetchErr error) error {
	if fetchErr != nil {
		return errUnavailable(fmt.Errorf("JWKS: %w", fetchErr), ks.window)
	}
	return errInvalidToken(ErrUnknownKey)
}

// refresh fetches the key set now, or joins the fetch under way.
func (ks *keySet) refresh(ctx context.Context) error {
	ks.mu.Lock()
	flight := ks.flight
	if flight == nil {
		flight = ks.startFetchLocked()
	}
	ks.mu.Unlock()
	if err := ks.wait(ctx, flight); err != nil {
		return err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.lastErr
}

func (ks *keySet) wait(ctx context.Context, flight chan struct{}) error {
	// A caller's earlier deadline stands (WithTimeout keeps it).
	ctx, cancel := context.WithTimeout(ctx, ks.timeout)
	defer cancel()
	select {
	case <-flight:
		return nil
	case <-ctx.Done():
		return errUnavailable(fmt.Errorf("waiting for JWKS: %w", ctx.Err()), time.Second)
	}
}

// startFetchLocked runs one fetch detached from any caller's context, so a
// caller that gives up does not fail it for the others.
func (ks *keySet) startFetchLocked() chan struct{} {
	flight := make(chan struct{})
	if err := ks.ctx.Err(); err != nil {
		// Closed: fetch nothing more, keep serving the keys we have.
		ks.lastErr = err
		close(flight)
		return flight
	}
	ks.flight = flight
	ks.wg.Add(1)
	go func() {
		defer ks.wg.Done()
		ctx, cancel := context.WithTimeout(ks.ctx, ks.timeout)
		err := ks.fetch(ctx)
		cancel()
		ks.mu.Lock()
		ks.lastErr = err
		ks.flight = nil
		ks.mu.Unlock()
		close(flight)
	}()
	return flight
}

func (ks *keySet) fetch(ctx context.Context) error {
	body, err := get(ctx, ks.client, ks.url)
	if err != nil {
		ks.log.WarnContext(ctx, "bearer: JWKS fetch failed; keeping the last good keys", "url", ks.url, "error", err)
		return err
	}
	keys, skipped, err := parseJWKS(body)
	if err != nil {
		ks.log.WarnContext(ctx, "bearer: JWKS unusable; keeping the last good keys", "url", ks.url, "error", err)
		return err
	}
	for _, e := range skipped {
		ks.log.WarnContext(ctx, "bearer: JWKS key skipped", "url", ks.url, "error", e)
	}
	ks.replace(keys)
	return nil
}

// replace publishes keys as the new snapshot. A key that is still
// published keeps its old object, so what it verified stays cached; the
// keys that are gone are marked retired.
func (ks *keySet) replace(keys []*publicKey) {
	var old []*publicKey
	if p := ks.keys.Load(); p != nil {
		old = *p
	}
	kept := make(map[*publicKey]bool, len(old))
	for i, k := range keys {
		for _, o := range old {
			if !kept[o] && o.sameAs(k) {
				keys[i] = o
				kept[o] = true
				break
			}
		}
	}
	ks.keys.Store(&keys)
	for _, o := range old {
		if !kept[o] {
			o.retired.Store(true)
		}
	}
}

// refreshEvery refreshes the key set until ks.ctx ends, with ±10% jitter
// so that many replicas do not hit the authority in step.
func (ks *keySet) refreshEvery(interval time.Duration) {
	defer ks.wg.Done()
	for {
		jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(interval))
		t := time.NewTimer(interval + jitter)
		select {
		case <-ks.ctx.Done():
			t.Stop()
			return
		case <-t.C:
			_ = ks.refresh(ks.ctx)
		}
	}
}
