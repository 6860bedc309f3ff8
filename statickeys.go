package bearer

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// parseStaticKeys reads Config.StaticKeys: a JWK Set, one JWK, or PEM
// blocks. Unlike a fetched JWK Set, a bad static key is an error: it is
// configuration, and New should say so at once. Encryption keys in a set
// are left out, as in a fetched one.
func parseStaticKeys(data []byte) ([]*publicKey, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var probe struct {
			Keys json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(trimmed, &probe); err != nil {
			return nil, fmt.Errorf("bearer: StaticKeys: %w", err)
		}
		if probe.Keys == nil {
			k, err := parseJWK(trimmed)
			if err != nil {
				return nil, fmt.Errorf("bearer: StaticKeys: %w", err)
			}
			return []*publicKey{k}, nil
		}
		keys, skipped, err := parseJWKS(trimmed)
		errs := []error{err}
		for _, k := range skipped {
			// An authority's whole set, pasted, holds its encryption
			// keys: they are no mistake, and verify nothing anyway.
			if k.reason != skipEncryption {
				errs = append(errs, fmt.Errorf("key %d: %w", k.index, k.err))
			}
		}
		if err = joinErrors(errs...); err != nil {
			return nil, fmt.Errorf("bearer: StaticKeys: %w", err)
		}
		if len(keys) == 0 {
			return nil, errors.New("bearer: StaticKeys: the JWK Set has no keys")
		}
		return keys, nil
	}
	var keys []*publicKey
	for rest := trimmed; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				return nil, errors.New("bearer: StaticKeys: neither JSON nor PEM")
			}
			break
		}
		k, err := parsePEMBlock(block)
		if err != nil {
			return nil, fmt.Errorf("bearer: StaticKeys: %s block: %w", block.Type, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("bearer: StaticKeys: no key found")
	}
	return keys, nil
}

func parsePEMBlock(block *pem.Block) (*publicKey, error) {
	var (
		key crypto.PublicKey
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, errors.New("unsupported PEM block type (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)")
	}
	if err != nil {
		return nil, err
	}
	// A PEM key has no kid: it fits tokens with any kid, as a signing
	// certificate configured in IdentityServer3 did.
	return newPublicKey("", "", "", nil, key)
}
