package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
		return fmt.Errorf("redirect to another origin refused: %s", redactURL(req.URL.String()))
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
		return nil, redactError(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, redactError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("GET %s: status %d", redactURL(url), resp.StatusCode)
	}
	return readBody(resp.Body)
}

// redactURL returns rawURL fit for a log or an error message: a password
// in it is replaced, as url.URL.Redacted does, and so are its query and
// fragment, where API keys and signed-URL tokens travel. A URL that does
// not parse is replaced whole.
func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "xxxxx", false
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = "xxxxx", ""
	}
	return u.Redacted()
}

// redactError redacts the URL of the *url.Error that err is or wraps, as
// http.Client.Do and url.Parse return them: net/http removes the password
// only, not the query.
func redactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}
