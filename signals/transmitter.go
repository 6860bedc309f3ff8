package signals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/accesstoken/bearer"
)

// metadata is what the receiver reads of the transmitter's configuration
// (SSF 1.0 §7.1).
type metadata struct {
	SpecVersion              string   `json:"spec_version"`
	Issuer                   string   `json:"issuer"`
	JWKSURI                  string   `json:"jwks_uri"`
	DeliveryMethodsSupported []string `json:"delivery_methods_supported"`
	ConfigurationEndpoint    string   `json:"configuration_endpoint"`
	StatusEndpoint           string   `json:"status_endpoint"`
	VerificationEndpoint     string   `json:"verification_endpoint"`
}

// maxMetadata bounds a metadata document or a stream configuration.
const maxMetadata = 1 << 20

// retrySpacing is how long after a failed attempt to reach the
// transmitter the next one may start: SETs that come meanwhile get 503.
const retrySpacing = time.Second

// transmitter returns the transmitter's metadata (nil with Config.JWKSURL
// until stream management asks for it: needMetadata) and the Validator
// that holds its keys, discovering them on first need. After a failure,
// callers get its error for retrySpacing without another attempt.
func (r *Receiver) transmitter(ctx context.Context, needMetadata bool) (*metadata, *bearer.Validator, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys != nil && (r.md != nil || !needMetadata) {
		return r.md, r.keys, nil
	}
	if r.lastErr != nil && time.Since(r.lastTry) < retrySpacing {
		return nil, nil, r.lastErr
	}
	r.lastTry = time.Now()
	jwks := r.cfg.JWKSURL
	if r.md == nil && (jwks == "" || needMetadata) {
		md, err := r.fetchMetadata(ctx)
		if err != nil {
			r.lastErr = err
			return nil, nil, err
		}
		r.md = md
	}
	if jwks == "" {
		jwks = r.md.JWKSURI
	}
	if r.keys == nil {
		keys, err := r.keyRing(jwks)
		if err != nil {
			r.lastErr = err
			return nil, nil, err
		}
		r.keys = keys
	}
	r.lastErr = nil
	return r.md, r.keys, nil
}

// keyRing returns a Validator whose only use is its KeySet: the
// transmitter's keys at jwks, fetched, refreshed, rate-limited and
// applied to a JWS exactly as an access token's are (the algorithm
// allow-list, the strict header and payload, an unknown kid fetched
// again). It validates no access token.
func (r *Receiver) keyRing(jwks string) (*bearer.Validator, error) {
	return bearer.New(r.ctx, bearer.Config{
		Authority:  r.cfg.Transmitter,
		JWKSURL:    jwks,
		Mode:       bearer.ModeJWT,
		Audience:   []string{r.cfg.Audience},
		Timeout:    r.cfg.Timeout,
		HTTPClient: r.cfg.HTTPClient,
		Logger:     r.log,
		Leeway:     r.cfg.Leeway,
	})
}

// fetchMetadata reads /.well-known/ssf-configuration, whose issuer must
// be Config.Transmitter exactly (SSF 1.0 §7.2.3).
func (r *Receiver) fetchMetadata(ctx context.Context) (*metadata, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	var md metadata
	if err := r.call(ctx, http.MethodGet, wellKnown(r.cfg.Transmitter), nil, &md, http.StatusOK); err != nil {
		return nil, fmt.Errorf("signals: transmitter metadata: %w", err)
	}
	if md.Issuer != r.cfg.Transmitter {
		return nil, fmt.Errorf("signals: transmitter metadata names issuer %q, not %q", md.Issuer, r.cfg.Transmitter)
	}
	if r.cfg.JWKSURL == "" {
		if err := checkURL(md.JWKSURI); err != nil {
			return nil, fmt.Errorf("signals: transmitter metadata: jwks_uri: %w", err)
		}
	}
	return &md, nil
}

// call sends a JSON request (body nil: none) and decodes the answer into
// out (nil: ignored), which must come with one of the statuses ok.
func (r *Receiver) call(ctx context.Context, method, url string, body, out any, ok ...int) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
	if err != nil {
		return err
	}
	if len(data) > maxMetadata {
		return errors.New("answer too large")
	}
	good := false
	for _, s := range ok {
		good = good || resp.StatusCode == s
	}
	if !good {
		return &statusError{Status: resp.StatusCode, Body: string(data[:min(len(data), 512)])}
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	return nil
}

// statusError is the error of a call to the transmitter that it answered
// with an unexpected status.
type statusError struct {
	Status int
	Body   string // the start of the answer's body
}

func (e *statusError) Error() string {
	return fmt.Sprintf("transmitter answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Body)
}
