//go:build unix

package e2e

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}, "resource": {resource}}
	req, _ := http.NewRequest(http.MethodPost, a.Issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Client-Cert", url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}))))
	req.SetBasicAuth("svc-mtls", svcSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.AccessToken == "" {
		a.t.Fatalf("certificate-bound token: %d %s", resp.StatusCode, body)
	}
	return out.AccessToken
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
