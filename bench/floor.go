package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
)

var b64 = base64.RawURLEncoding

// fetchKeys fetches the JWK Set at url and returns its keys by kid.
func fetchKeys(ctx context.Context, url string) (map[string]crypto.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]crypto.PublicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var m jwkset.JWKMarshal
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		if m.KTY == "AKP" { // ML-DSA (RFC 9964), which jwkset does not read
			if k, ok := akpKey(string(m.ALG), raw); ok {
				keys[m.KID] = k
			}
			continue
		}
		k, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			return nil, err
		}
		keys[m.KID] = k.Key()
	}
	return keys, nil
}

// verify checks an RS256 or ES256 signature over input with pub.
func verify(pub crypto.PublicKey, input string, sig []byte) error {
	h := sha256.Sum256([]byte(input))
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig)
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return errors.New("ES256 signature is not 64 bytes")
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, h[:], r, s) {
			return errors.New("bad ECDSA signature")
		}
		return nil
	}
	return fmt.Errorf("unsupported key %T", pub)
}

// newBare returns the floor of every validator: sha256 over the signing
// input and the signature check, with token's signature decoded (and for
// ES256, split into r and s) beforehand. It looks at no claim. Another
// token's signature is decoded on the fly.
func newBare(ctx context.Context, t Target, token string) (*Contender, error) {
	keys, err := fetchKeys(ctx, t.JWKSURL)
	if err != nil {
		return nil, err
	}
	pub, ok := keys[t.KeyID]
	if !ok {
		return nil, fmt.Errorf("kid %q not in the JWKS", t.KeyID)
	}
	i := strings.LastIndexByte(token, '.')
	sigText := token[i+1:]
	sig, err := b64.DecodeString(sigText)
	if err != nil {
		return nil, err
	}
	var r, s *big.Int
	if len(sig) == 64 {
		r, s = new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	}
	validate := func(_ context.Context, token string) error {
		i := strings.LastIndexByte(token, '.')
		if i < 0 {
			return errors.New("not a JWS")
		}
		if token[i+1:] != sigText {
			sig, err := b64.DecodeString(token[i+1:])
			if err != nil {
				return err
			}
			return verify(pub, token[:i], sig)
		}
		if t.Alg != "RS256" && t.Alg != "ES256" {
			return verifyAlg(t.Alg, pub, token[:i], sig)
		}
		h := sha256.Sum256([]byte(token[:i]))
		switch k := pub.(type) {
		case *rsa.PublicKey:
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig)
		case *ecdsa.PublicKey:
			if !ecdsa.Verify(k, h[:], r, s) {
				return errors.New("bad ECDSA signature")
			}
			return nil
		}
		return fmt.Errorf("unsupported key %T", pub)
	}
	return &Contender{Validate: validate}, nil
}

// floorHeader and floorClaims are the members the hand-written floor reads.
type floorHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

type floorClaims struct {
	Iss   string   `json:"iss"`
	Aud   audience `json:"aud"`
	Exp   *int64   `json:"exp"`
	Nbf   int64    `json:"nbf"`
	Scope string   `json:"scope"`
}

// audience is aud: a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// newFloor returns what a careful hand-written validator costs: split the
// token, decode the header (alg must be t.Alg, kid picks the key), decode
// and verify the signature, decode the payload into a struct, check iss,
// aud, exp, nbf and the scope. No library beyond the standard one.
func newFloor(ctx context.Context, t Target) (*Contender, error) {
	keys, err := fetchKeys(ctx, t.JWKSURL)
	if err != nil {
		return nil, err
	}
	validate := func(_ context.Context, token string) error {
		head, rest, ok1 := strings.Cut(token, ".")
		body, sigText, ok2 := strings.Cut(rest, ".")
		if !ok1 || !ok2 {
			return errors.New("not a JWS")
		}
		hb, err := b64.DecodeString(head)
		if err != nil {
			return err
		}
		var h floorHeader
		if err := json.Unmarshal(hb, &h); err != nil {
			return err
		}
		if h.Alg != t.Alg {
			return fmt.Errorf("alg %q", h.Alg)
		}
		pub, ok := keys[h.Kid]
		if !ok {
			return errors.New("unknown kid")
		}
		sig, err := b64.DecodeString(sigText)
		if err != nil {
			return err
		}
		if err := verify(pub, token[:len(head)+1+len(body)], sig); err != nil {
			return err
		}
		pb, err := b64.DecodeString(body)
		if err != nil {
			return err
		}
		var c floorClaims
		if err := json.Unmarshal(pb, &c); err != nil {
			return err
		}
		now := time.Now().Unix()
		switch {
		case c.Iss != t.Issuer:
			return errors.New("wrong issuer")
		case !slices.Contains(c.Aud, Audience):
			return errors.New("wrong audience")
		case c.Exp == nil || now >= *c.Exp:
			return errors.New("expired")
		case c.Nbf > now:
			return errors.New("not yet valid")
		case !hasScope(c.Scope, Scope):
			return errScope
		}
		return nil
	}
	return &Contender{Validate: validate}, nil
}
