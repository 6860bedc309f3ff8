package redis

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testCA is a certificate authority of a test's own, and a server
// certificate it issued for 127.0.0.1, written as PEM files in dir.
type testCA struct {
	pool              *x509.CertPool
	caFile, cert, key string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCA{pool: x509.NewCertPool(), caFile: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	c.pool.AddCert(ca)
	for file, block := range map[string]*pem.Block{
		c.caFile: {Type: "CERTIFICATE", Bytes: caDER},
		c.cert:   {Type: "CERTIFICATE", Bytes: der},
		c.key:    {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestTLS: a rediss:// URL speaks TLS to Redis and verifies its
// certificate: against Options.TLSConfig's roots it connects, against the
// system's it does not.
func TestTLS(t *testing.T) {
	ca := newTestCA(t)
	tlsPort := freePort(t)
	r := startRedis(t, "--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", ca.cert, "--tls-key-file", ca.key,
		"--tls-ca-cert-file", ca.caFile, "--tls-auth-clients", "no")
	url := strings.Replace(r.URL(), "redis://", "rediss://", 1)
	url = strings.Replace(url, ":"+strconv.Itoa(r.port), ":"+strconv.Itoa(tlsPort), 1)

	trusted := newStore(t, r, func(o *Options) { o.URL, o.TLSConfig = url, &tls.Config{RootCAs: ca.pool} })
	waitConnected(t, trusted)
	if first, err := trusted.FirstSeen(context.Background(), "id", time.Now().Add(time.Minute)); err != nil || !first {
		t.Fatalf("FirstSeen over TLS: %v, %v", first, err)
	}
	untrusted := newStore(t, r, func(o *Options) { o.URL = url })
	time.Sleep(200 * time.Millisecond) // a few connection attempts
	if _, err := untrusted.FirstSeen(context.Background(), "id", time.Now().Add(time.Minute)); err == nil {
		t.Error("a certificate of an unknown CA was accepted")
	}
	if _, err := New(Options{URL: r.URL(), TLSConfig: &tls.Config{}}); err == nil {
		t.Error("New accepted a TLSConfig with a redis:// URL")
	}
}
