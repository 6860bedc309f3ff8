package middleware_test

import (
	"crypto/tls"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
)

// TestCertificateBoundOverTLS: RFC 8705 §3 over a real TLS listener that
// asks for client certificates. A certificate-bound token is accepted
// from the client holding that certificate, refused from one holding
// another or none; an unbound token is accepted from all of them.
func TestCertificateBoundOverTLS(t *testing.T) {
	env := conformance.NewEnv(t)
	srv := httptest.NewUnstartedServer(middleware.New(env.OK, middleware.Logger(slog.New(slog.DiscardHandler)))(okHandler()))
	// The API trusts whatever certificate the client has: the binding,
	// not a CA, is what ties it to the token.
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()

	client := func(certs ...tls.Certificate) *http.Client {
		// srv.Client is one client: each of these needs its own.
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = certs
		return &http.Client{Transport: tr}
	}
	bound := conformance.CertificateBoundToken(env.Authority)
	unbound := env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "read"})
	for _, tc := range []struct {
		name   string
		client *http.Client
		token  string
		status int
		detail string
	}{
		{"bound token, its certificate", client(conformance.ClientCertificate()), bound, 200, ""},
		{"bound token, another certificate", client(conformance.OtherCertificate()), bound, 401, "client certificate does not match the token"},
		{"unbound token, a certificate", client(conformance.OtherCertificate()), unbound, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/values", nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			resp, err := tc.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.detail) {
				t.Errorf("%d %q (%s), want %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body, tc.status, tc.detail)
			}
		})
	}
	// Without a client certificate, the handshake itself fails: the
	// listener requires one.
	if resp, err := client().Get(srv.URL + "/values"); err == nil {
		resp.Body.Close()
		t.Error("a client without a certificate got through the handshake")
	}
}

// TestCertificateBoundOptionalCertificate: with certificates optional at
// the listener, a bound token from a client without one is refused.
func TestCertificateBoundOptionalCertificate(t *testing.T) {
	env := conformance.NewEnv(t)
	srv := httptest.NewUnstartedServer(middleware.New(env.OK, middleware.Logger(slog.New(slog.DiscardHandler)))(okHandler()))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/values", nil)
	req.Header.Set("Authorization", "Bearer "+conformance.CertificateBoundToken(env.Authority))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "without a client certificate") {
		t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestDPoPOverTLS: the htu of a request over TLS is https, from the
// connection, with no forwarded field involved.
func TestDPoPOverTLS(t *testing.T) {
	env := conformance.NewEnv(t)
	srv := httptest.NewTLSServer(middleware.New(env.OK, middleware.Logger(slog.New(slog.DiscardHandler)))(okHandler()))
	defer srv.Close()
	key := bearertest.NewDPoPKey("ES256")
	tok := env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "read", "cnf": key.Confirmation()})
	for _, tc := range []struct {
		htu    string
		status int
	}{
		{srv.URL + "/values", 200},
		{strings.Replace(srv.URL, "https:", "http:", 1) + "/values", 401},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/values", nil)
		req.Header.Set("Authorization", "DPoP "+tok)
		req.Header.Set("DPoP", key.Proof(http.MethodGet, tc.htu, tok))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("htu %s: %d, want %d", tc.htu, resp.StatusCode, tc.status)
		}
	}
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := bearer.ClaimsFromContext(r.Context()); !ok {
			w.WriteHeader(http.StatusTeapot)
		}
	})
}
