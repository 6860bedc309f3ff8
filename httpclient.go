package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// maxBodySize caps every response body read from the authority.
const maxBodySize = 1 << 20

var errBodyTooLarge = errors.New("response body exceeds 1 MiB")

// safeClient returns the client used to talk to the authority: the given
// one, or one with timeouts; in both cases redirects may not leave the
// host, so a compromised or misconfigured endpoint cannot point the
// library at an internal address.
func safeClient(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				ForceAttemptHTTP2:   true,
				MaxIdleConnsPerHost: 16,
				IdleConnTimeout:     90 * time.Second,
				TLSHandshakeTimeout: 5 * time.Second,
				// No ResponseHeaderTimeout: every request carries a deadline
				// (Config.Timeout) already, and its timer cost about 10µs
				// per request, a tenth of a loopback introspection call.
			},
		}
	} else {
		copied := *c
		c = &copied
	}
	if c.CheckRedirect == nil {
		c.CheckRedirect = sameHostRedirects
	}
	return c
}

func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
		return fmt.Errorf("redirect to another origin refused: %s", req.URL.Redacted())
	}
	return nil
}

// readBody reads at most maxBodySize bytes and fails beyond that rather
// than truncating, so a half document is never parsed.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBodySize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBodySize {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// get fetches url and returns the body of a 200 response.
func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return readBody(resp.Body)
}
