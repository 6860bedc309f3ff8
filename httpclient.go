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
	r, err := getDocument(ctx, client, url, revalidation{}, false)
	return r.body, err
}

// revalidation is what a response offered to ask later whether the
// document changed (RFC 9110 §8.8): its ETag and Last-Modified, empty if
// it offered none.
type revalidation struct {
	etag, lastModified string
}

// document is an answer to getDocument.
type document struct {
	body        []byte       // the body of a 200; nil on a 304
	notModified bool         // the authority answered 304: unchanged since rv
	rv          revalidation // from a 200, to ask next time
}

// getDocument fetches url, asking with rv, if it holds anything, whether
// the document changed since the response rv came from: a 304 says it did
// not. noCache asks the caches on the way to check with the authority
// (Cache-Control: no-cache), for a caller who knows its copy is stale.
func getDocument(ctx context.Context, client *http.Client, url string, rv revalidation, noCache bool) (document, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return document{}, redactError(err)
	}
	req.Header.Set("Accept", "application/json")
	if rv.etag != "" {
		req.Header.Set("If-None-Match", rv.etag)
	}
	if rv.lastModified != "" {
		req.Header.Set("If-Modified-Since", rv.lastModified)
	}
	if noCache {
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := client.Do(req)
	if err != nil {
		return document{}, redactError(err)
	}
	defer resp.Body.Close()
	conditional := rv != revalidation{}
	if resp.StatusCode == http.StatusNotModified && conditional {
		return document{notModified: true}, nil
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return document{}, fmt.Errorf("GET %s: status %d", redactURL(url), resp.StatusCode)
	}
	body, err := readBody(resp.Body)
	if err != nil {
		return document{}, err
	}
	return document{body: body, rv: revalidation{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}}, nil
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
