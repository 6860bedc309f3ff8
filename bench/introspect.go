package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// Names of the introspection contenders. Post is the floor the others are
// compared with: the request the library makes, made by hand.
const (
	Post       = "post"        // net/http POST of the same RFC 7662 request, JSON decode of active
	BearerMiss = "bearer-miss" // bearer.Introspector, caching off: every call asks the endpoint
	BearerHit  = "bearer-hit"  // bearer.Introspector, default cache: every call after the first hits
)

// IntrospectionNames lists the introspection contenders, Post first.
var IntrospectionNames = []string{Post, BearerMiss, BearerHit}

// Endpoint is an introspection endpoint and the API's credentials there.
type Endpoint struct {
	URL          string
	ClientID     string
	ClientSecret string
}

// EndpointOf is a's introspection endpoint with its default client.
func EndpointOf(a *bearertest.Authority) Endpoint {
	return Endpoint{URL: a.IntrospectionURL(), ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret}
}

var errInactive = errors.New("token not active")

// NewIntrospection sets up the named introspection contender for e and
// checks that it finds token active.
func NewIntrospection(ctx context.Context, name string, e Endpoint, token string) (*Contender, error) {
	var c *Contender
	switch name {
	case Post:
		c = newPost(e)
	case BearerMiss, BearerHit:
		cfg := bearer.Config{
			ClientID:              e.ClientID,
			ClientSecret:          e.ClientSecret,
			IntrospectionEndpoint: e.URL,
		}
		if name == BearerMiss {
			cfg.CacheDuration = -1
		}
		in, err := bearer.NewIntrospector(cfg)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", name, err)
		}
		validate := func(ctx context.Context, token string) error {
			res, err := in.Introspect(ctx, token)
			if err != nil {
				return err
			}
			if !res.Active {
				return errInactive
			}
			return nil
		}
		c = &Contender{Validate: validate, close: func() { in.Close() }}
	default:
		return nil, fmt.Errorf("bench: unknown introspection contender %q", name)
	}
	c.Name = name
	if err := c.Validate(ctx, token); err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: %s refuses the benchmark token: %w", name, err)
	}
	return c, nil
}

// newPost makes the RFC 7662 request the library makes (form body,
// client_secret_basic, Accept: application/json) with a plain
// http.Client, and decodes the one member it needs.
func newPost(e Endpoint) *Contender {
	client := &http.Client{Timeout: 5 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	creds := url.QueryEscape(e.ClientID) + ":" + url.QueryEscape(e.ClientSecret)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(creds))
	validate := func(ctx context.Context, token string) error {
		form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", basic)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("introspection: %s", resp.Status)
		}
		var r struct {
			Active bool `json:"active"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return err
		}
		if !r.Active {
			return errInactive
		}
		return nil
	}
	return &Contender{Validate: validate, close: client.CloseIdleConnections}
}
