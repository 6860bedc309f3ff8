package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

var b64 = base64.RawURLEncoding

// mldsaSchemes are Cloudflare CIRCL's ML-DSA, an implementation of FIPS
// 204 independent of the standard library's crypto/mldsa, by JWS alg.
var mldsaSchemes = map[string]sign.Scheme{"ML-DSA-44": mldsa44.Scheme(), "ML-DSA-65": mldsa65.Scheme(), "ML-DSA-87": mldsa87.Scheme()}

// TestMLDSAInteroperability: access tokens signed by CIRCL (pure ML-DSA,
// empty context, as RFC 9964 §5 asks), with AKP keys published in the
// authority's JWK Set, verify when the library is built with Go 1.27 or
// later, and are refused 401 saying why before; the other way round,
// CIRCL verifies what bearertest signs with crypto/mldsa.
func TestMLDSAInteroperability(t *testing.T) {
	a := bearertest.New(t)
	keys := map[string]sign.PrivateKey{}
	for alg, scheme := range mldsaSchemes {
		pub, priv, err := scheme.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := pub.MarshalBinary()
		a.PublishRaw(json.RawMessage(fmt.Sprintf(`{"kty":"AKP","alg":%q,"kid":"circl-%s","use":"sig","pub":%q}`, alg, alg, b64.EncodeToString(raw))))
		keys[alg] = priv
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := bearer.New(ctx, bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	// A build before Go 1.27 has no crypto/mldsa: New says so.
	_, err = bearer.New(ctx, bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Algorithms: []string{"ML-DSA-65"}})
	verifies := err == nil
	for alg, scheme := range mldsaSchemes {
		t.Run("CIRCL signs "+alg, func(t *testing.T) {
			header := `{"alg":"` + alg + `","typ":"at+jwt","kid":"circl-` + alg + `"}`
			payload := fmt.Sprintf(`{"iss":%q,"aud":"api","sub":"circl","exp":%d}`, a.Issuer(), time.Now().Add(time.Hour).Unix())
			input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
			token := input + "." + b64.EncodeToString(scheme.Sign(keys[alg], []byte(input), nil))
			c, err := v.Validate(ctx, token)
			switch {
			case verifies && err != nil:
				t.Fatalf("Validate: %v", err)
			case verifies && c.Subject != "circl":
				t.Fatalf("subject %q", c.Subject)
			case !verifies && !errors.Is(err, bearer.ErrAlgorithm):
				t.Fatalf("Validate without crypto/mldsa: %v, want ErrAlgorithm", err)
			case !verifies && !strings.Contains(bearer.AsError(err).Description, "Go 1.27"):
				t.Fatalf("description %q does not say what is missing", bearer.AsError(err).Description)
			}
		})
		if !verifies {
			continue // bearertest mints ML-DSA tokens with Go 1.27 or later
		}
		t.Run("CIRCL verifies "+alg+" of crypto/mldsa", func(t *testing.T) {
			token := a.TokenWith(alg, nil, bearertest.Payload{"aud": "api"})
			var jwks struct {
				Keys []struct{ Kid, Pub string }
			}
			if err := json.Unmarshal(a.JWKS(), &jwks); err != nil {
				t.Fatal(err)
			}
			for _, k := range jwks.Keys {
				if k.Kid != a.KeyID(alg) {
					continue
				}
				raw, err := b64.DecodeString(k.Pub)
				if err != nil {
					t.Fatal(err)
				}
				pub, err := scheme.UnmarshalBinaryPublicKey(raw)
				if err != nil {
					t.Fatal(err)
				}
				dot := strings.LastIndexByte(token, '.')
				sig, err := b64.DecodeString(token[dot+1:])
				if err != nil {
					t.Fatal(err)
				}
				if !scheme.Verify(pub, []byte(token[:dot]), sig, nil) {
					t.Fatal("CIRCL refuses bearertest's signature")
				}
				return
			}
			t.Fatalf("no published key %q", a.KeyID(alg))
		})
	}
}
