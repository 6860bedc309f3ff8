package bearer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

func TestDiscoveryTrailingSlashOnAuthority(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{Authority: a.Issuer() + "/"})
	mustValid(t, v, a.Token(claims(nil)))
}

func TestDiscoveryFallsBackToRFC8414WithPath(t *testing.T) {
	a := bearertest.New(t, bearertest.WithPath("/tenant1"), bearertest.WithoutOpenIDConfiguration())
	v := newValidator(t, a, bearer.Config{})
	mustValid(t, v, a.Token(claims(nil)))
	if a.Hits(bearertest.Metadata) == 0 {
		t.Error("RFC 8414 metadata was not fetched")
	}
}

func TestDiscoveryAuthorityWithPath(t *testing.T) {
	a := bearertest.New(t, bearertest.WithPath("/realms/demo"))
	v := newValidator(t, a, bearer.Config{})
	mustValid(t, v, a.Token(claims(nil)))
}

func TestDiscoveryIssuerMismatchIs503(t *testing.T) {
	a := bearertest.New(t, bearertest.WithIssuer("http://impostor.example"))
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.URL, Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok := a.Token(claims(bearertest.Payload{"iss": a.URL}))
	e := mustFail(t, v, tok, bearer.ErrUnavailable, nil)
	if e.Status != http.StatusServiceUnavailable {
		t.Errorf("status %d", e.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := v.Ready(ctx); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("Ready = %v, want the issuer mismatch", err)
	}
}

// TestDiscoveryErrorIsOneLine: when neither metadata location answers,
// the error names both on one line, for a log line or a message printed at
// start-up, and errors.Is still finds what each failed with.
func TestDiscoveryErrorIsOneLine(t *testing.T) {
	a := bearertest.New(t)
	a.SetDown(true)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	oneLine := func(what string, err error) {
		t.Helper()
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "/.well-known/openid-configuration: status 503; GET ") ||
			!strings.Contains(msg, "/.well-known/oauth-authorization-server: status 503") {
			t.Errorf("%s: %q, want both locations on one line", what, msg)
		}
	}
	_, err = v.Validate(context.Background(), a.Token(claims(nil)))
	mustUnavailable(t, err)
	oneLine("Validate", err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = v.Ready(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ready: %v, want context.DeadlineExceeded", err)
	}
	oneLine("Ready", err)

	// A stalled authority: both fetches end with the attempt's deadline.
	s := bearertest.New(t)
	s.SetDelay(bearertest.Discovery, time.Minute)
	s.SetDelay(bearertest.Metadata, time.Minute)
	v2, err := bearer.New(context.Background(), bearer.Config{Authority: s.Issuer(), Audience: []string{"api"}, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	// A request may give up before the first attempt does: wait for it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, err = v2.Validate(context.Background(), s.Token(claims(nil)))
		if err == nil || !strings.Contains(err.Error(), "not discovered yet") || time.Now().After(deadline) {
			break
		}
	}
	if !errors.Is(err, bearer.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Validate against a stalled authority: %q, want ErrUnavailable and context.DeadlineExceeded on one line", err)
	}
}

func TestDiscoveryRefusesBadEndpoints(t *testing.T) {
	for name, edit := range map[string]func(map[string]any){
		"no jwks_uri":       func(d map[string]any) { delete(d, "jwks_uri") },
		"relative jwks_uri": func(d map[string]any) { d["jwks_uri"] = "/jwks" },
		"jwks_uri not http": func(d map[string]any) { d["jwks_uri"] = "file:///etc/passwd" },
		"issuer not string": func(d map[string]any) { d["issuer"] = 42 },
	} {
		t.Run(name, func(t *testing.T) {
			a := bearertest.New(t)
			a.SetDiscovery(edit)
			v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			mustFail(t, v, a.Token(claims(nil)), bearer.ErrUnavailable, nil)
		})
	}
}

// TestDiscoveryRefusesHTTPJWKSUnderHTTPS uses a TLS authority whose
// document downgrades jwks_uri to http.
func TestDiscoveryRefusesHTTPJWKSUnderHTTPS(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + srv.URL + `","jwks_uri":"` + strings.Replace(srv.URL, "https", "http", 1) + `/jwks"}`))
	}))
	defer srv.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: srv.URL, Audience: []string{"api"}, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := v.Ready(ctx); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("Ready = %v, want the downgrade refused", err)
	}
}

func TestDiscoveryRedirectToAnotherHostRefused(t *testing.T) {
	evil := bearertest.New(t)
	redirector := httptest.NewServer(http.RedirectHandler(evil.URL+"/.well-known/openid-configuration", http.StatusFound))
	defer redirector.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: redirector.URL, Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	mustFail(t, v, evil.Token(claims(nil)), bearer.ErrUnavailable, nil)
	if n := evil.Hits(bearertest.Discovery); n != 0 {
		t.Errorf("followed a redirect to another host %d times", n)
	}
}

func TestDiscoveryOversizedBodyRefused(t *testing.T) {
	a := bearertest.New(t)
	a.SetBody(bearertest.Discovery, []byte(`{"issuer":"`+a.Issuer()+`","x":"`+strings.Repeat("x", 2<<20)+`"}`))
	a.SetStatus(bearertest.Metadata, http.StatusNotFound)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	// The first attempt's failure, however long a busy machine takes to
	// read 2 MiB.
	var lastErr error
	for deadline := time.Now().Add(10 * time.Second); lastErr == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		lastErr = v.Status().LastError
	}
	if lastErr == nil || !strings.Contains(lastErr.Error(), "1 MiB") || v.Status().Ready {
		t.Errorf("Status().LastError = %v, want the 1 MiB cap", lastErr)
	}
}

func TestSlowAuthorityBoundedByTimeout(t *testing.T) {
	a := bearertest.New(t)
	a.SetDelay(bearertest.Discovery, time.Minute)
	a.SetDelay(bearertest.Metadata, time.Minute)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	start := time.Now()
	mustFail(t, v, a.Token(claims(nil)), bearer.ErrUnavailable, nil)
	// Generous bound: the point is "not a minute", not a precise figure.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a request waited %v on a slow authority", d)
	}
}

func TestReadyAndCloseWithCancelledContext(t *testing.T) {
	a := bearertest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	v, err := bearer.New(ctx, bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel() // ends background work; what is known keeps working
	mustValid(t, v, a.Token(claims(nil)))
	v.Close()
	v.Close()
	if err := v.Ready(context.Background()); err != nil {
		t.Errorf("Ready after Close = %v", err)
	}
	_ = errors.New
}

// TestDiscoveryOutageLoggedOnce: while the authority is down, discovery is
// retried with backoff, but the outage is one warning (then one a minute,
// with a count), not a line per attempt; the recovery is one line too.
func TestDiscoveryOutageLoggedOnce(t *testing.T) {
	a := bearertest.New(t)
	a.SetDown(true)
	var logs logBuffer
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	// Three attempts or more, each asking both metadata locations.
	for deadline := time.Now().Add(20 * time.Second); a.Hits(bearertest.Metadata) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts in 20 s", a.Hits(bearertest.Metadata))
		}
	}
	a.SetDown(false)
	mustRecover(t, v, a.Token(claims(nil))) // a request wakes the retry loop
	out := logs.String()
	if n := strings.Count(out, "authority not reachable"); n != 1 || strings.Count(out, "level=WARN") != 1 {
		t.Errorf("%d lines say the authority is not reachable, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "msg=\"bearer: authority reachable\""); n != 1 || !strings.Contains(out, "failures=") {
		t.Errorf("%d lines say the authority is reachable again, want 1 with the count:\n%s", n, out)
	}
}

// TestJWKSOutageLoggedOnce: when the keys cannot be fetched at start-up,
// each retry of discovery fetches them again, but the failure is one
// warning for the run (beside the one that the authority is not usable),
// and the recovery one line.
func TestJWKSOutageLoggedOnce(t *testing.T) {
	a := bearertest.New(t)
	a.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	var logs logBuffer
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for deadline := time.Now().Add(20 * time.Second); a.Hits(bearertest.JWKS) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d fetches of the keys in 20 s", a.Hits(bearertest.JWKS))
		}
	}
	a.SetStatus(bearertest.JWKS, 0)
	mustRecover(t, v, a.Token(claims(nil)))
	out := logs.String()
	if n := strings.Count(out, "JWKS fetch failed"); n != 1 {
		t.Errorf("%d lines say the JWKS fetch failed, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "JWKS fetched again"); n != 1 {
		t.Errorf("%d lines say the JWKS was fetched again, want 1:\n%s", n, out)
	}
}
