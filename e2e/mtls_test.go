//go:build unix

package e2e

import (
	"crypto/tls"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/middleware"
)

// mtlsToken gets a client_credentials token for svc-mtls, which the
// authority binds to cert (certificateBoundAccessTokens): the authority,
// as if behind a TLS-terminating proxy, reads the certificate from
// X-Client-Cert.
func (a *authority) mtlsToken(cert tls.Certificate, resource string) string {
	a.t.Helper()
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	tok, _ := a.boundToken("svc-mtls", "api", resource, "X-Client-Cert", url.PathEscape(string(pemCert)))
	return tok
}

// TestCertificateBoundTokens: node-oidc-provider binds tokens, JWT and
// opaque, to the client's certificate (RFC 8705 §3); the API, on a real
// TLS listener asking for client certificates, accepts them from the
// client with that certificate and refuses them from one with another.
func TestCertificateBoundTokens(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	v := a.validator(withIntrospection(0))
	srv := httptest.NewUnstartedServer(middleware.New(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := func(certs ...tls.Certificate) *http.Client {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = certs
		return &http.Client{Transport: tr}
	}
	call := func(c *http.Client, token string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/values", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	mine, another := conformance.ClientCertificate(), conformance.OtherCertificate()
	for kind, resource := range map[string]string{"JWT": apiResource, "opaque": referenceResource} {
		t.Run(kind, func(t *testing.T) {
			tok := a.mtlsToken(mine, resource)
			for what, tc := range map[string]struct {
				client *http.Client
				status int
			}{
				"its certificate":     {client(mine), http.StatusOK},
				"another certificate": {client(another), http.StatusUnauthorized},
				"no certificate":      {client(), http.StatusUnauthorized},
			} {
				if got := call(tc.client, tok); got != tc.status {
					t.Errorf("%s: %d, want %d", what, got, tc.status)
				}
			}
		})
	}
}
