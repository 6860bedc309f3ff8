package grpcbearer_test

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	grpcbearer "github.com/accesstoken/bearer/adapters/grpc"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
)

// TestCertificateBoundOverTLS: RFC 8705 §3 over gRPC on TLS. A
// certificate-bound token is accepted on a connection with that client
// certificate, refused on one with another or none; a DPoP-bound token,
// which no gRPC call can present with a proof, is refused.
func TestCertificateBoundOverTLS(t *testing.T) {
	env := conformance.NewEnv(t)
	// httptest's certificate for 127.0.0.1 serves as the server's.
	https := httptest.NewTLSServer(http.NotFoundHandler())
	defer https.Close()
	roots := https.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	quiet := grpcbearer.Logger(slog.New(slog.DiscardHandler))
	srv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: https.TLS.Certificates, ClientAuth: tls.RequestClientCert})),
		grpc.ChainUnaryInterceptor(grpcbearer.UnaryServerInterceptor(env.OK, quiet)),
	)
	srv.RegisterService(&whoService, struct{}{})
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	dial := func(certs ...tls.Certificate) *grpc.ClientConn {
		conn, err := grpc.NewClient(l.Addr().String(),
			grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: certs})),
			grpc.WithDefaultCallOptions(grpc.CallContentSubtype("json")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	bound := conformance.CertificateBoundToken(env.Authority)
	dpopBound := env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "read", "cnf": bearertest.NewDPoPKey("ES256").Confirmation()})
	for _, tc := range []struct {
		name  string
		conn  *grpc.ClientConn
		token string
		code  codes.Code
	}{
		{"its certificate", dial(conformance.ClientCertificate()), bound, codes.OK},
		{"another certificate", dial(conformance.OtherCertificate()), bound, codes.Unauthenticated},
		{"no certificate", dial(), bound, codes.Unauthenticated},
		{"DPoP-bound token", dial(conformance.ClientCertificate()), dpopBound, codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := callUnary(withToken(t.Context(), "Bearer "+tc.token), tc.conn, unary)
			if got := status.Code(r.err); got != tc.code {
				t.Errorf("code %v (%v), want %v", got, r.err, tc.code)
			}
		})
	}
}
