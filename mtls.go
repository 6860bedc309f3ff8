package bearer

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
)

// checkCertificate checks the binding of a certificate-bound token (RFC
// 8705 §3): the SHA-256 thumbprint of the client certificate the request
// came with must be the token's cnf x5t#S256.
func checkCertificate(cnf confirmation, cert *x509.Certificate) error {
	if cnf.x5t == "" {
		return nil
	}
	if cert == nil {
		return errBinding("certificate-bound token without a client certificate")
	}
	sum := sha256.Sum256(cert.Raw)
	if !hmac.Equal([]byte(b64.EncodeToString(sum[:])), []byte(cnf.x5t)) {
		return errBinding("client certificate does not match the token")
	}
	return nil
}
