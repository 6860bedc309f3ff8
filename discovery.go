package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// metadata is the part of the authority's discovery document we use.
type metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

var errIssuerMismatch = errors.New("discovery document names another issuer")

// discover fetches the OpenID Connect discovery document and falls back to
// RFC 8414 authorization server metadata, whose well-known path is inserted
// between host and path (RFC 8414 §3.1).
func discover(ctx context.Context, client *http.Client, authority string) (*metadata, error) {
	base := strings.TrimSuffix(authority, "/")
	md, err := fetchMetadata(ctx, client, base+"/.well-known/openid-configuration", authority)
	if err == nil || errors.Is(err, errIssuerMismatch) {
		return md, err
	}
	u, perr := url.Parse(base)
	if perr != nil {
		return nil, redactError(perr)
	}
	u.Path = "/.well-known/oauth-authorization-server" + u.Path
	u.RawPath = ""
	md, err2 := fetchMetadata(ctx, client, u.String(), authority)
	if err2 == nil || errors.Is(err2, errIssuerMismatch) {
		return md, err2
	}
	return nil, joinErrors(err, err2)
}

func fetchMetadata(ctx context.Context, client *http.Client, docURL, authority string) (*metadata, error) {
	body, err := get(ctx, client, docURL)
	if err != nil {
		return nil, err
	}
	return parseMetadata(body, authority)
}

// parseMetadata checks the document against the configured authority: the
// issuer must be the same (give or take a trailing slash), and endpoints
// must be absolute URLs that do not downgrade an https authority to http.
func parseMetadata(body []byte, authority string) (*metadata, error) {
	var md metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	if strings.TrimSuffix(md.Issuer, "/") != strings.TrimSuffix(authority, "/") {
		return nil, fmt.Errorf("%w: want %q, got %q", errIssuerMismatch, redactURL(authority), redactURL(md.Issuer))
	}
	secure := isHTTPS(authority)
	for name, endpoint := range map[string]string{"jwks_uri": md.JWKSURI, "introspection_endpoint": md.IntrospectionEndpoint} {
		if endpoint == "" {
			continue
		}
		if err := checkEndpoint(endpoint, secure); err != nil {
			return nil, fmt.Errorf("discovery document: %s: %w", name, err)
		}
	}
	return &md, nil
}

// isHTTPS reports whether rawURL's scheme is https. Schemes are
// case-insensitive (RFC 3986 §3.1) and url.Parse lowercases them, so
// "HTTPS://login.example.com" is as secure as it says and its endpoints
// must be https too.
func isHTTPS(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Scheme == "https"
}

func checkEndpoint(endpoint string, secure bool) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return redactError(err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", redactURL(endpoint))
	}
	if secure && u.Scheme != "https" {
		return fmt.Errorf("%q is not https although the authority is", redactURL(endpoint))
	}
	return nil
}
