package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// BenchmarkDPoP pairs a DPoP request with a Bearer request (issue 22):
// rounds alternate a batch of Bearer requests (a cached token), a batch
// of DPoP requests (the same cached token, bound, each with a fresh ES256
// proof: parsing, the signature, htu, ath, the binding and the replay
// check in the default memory) and a batch of bare ES256 verifications of
// the same proofs' signatures (SHA-256 of the signing input, then
// ecdsa.Verify with the key and R, S decoded beforehand), the floor of
// any proof check. It reports the
// medians over rounds of ns per Bearer request, per DPoP request and per
// verification, and proof-cost/verify: what DPoP adds to a request, in
// signature verifications (the target: about 1).
//
//	go test -run '^$' -bench DPoP -benchtime 40x
func BenchmarkDPoP(b *testing.B) {
	a := bearertest.New(b)
	ctx := context.Background()
	v, err := bearer.New(ctx, bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	if err := v.Ready(ctx); err != nil {
		b.Fatal(err)
	}
	key := bearertest.NewDPoPKey("ES256")
	const url = "https://api.example/values"
	plain := a.TokenWith("ES256", nil, Claims())
	boundClaims := Claims()
	boundClaims["cnf"] = key.Confirmation()
	bound := a.TokenWith("ES256", nil, boundClaims)

	jwk := key.JWK()
	coord := func(name string) []byte {
		b, _ := base64.RawURLEncoding.DecodeString(jwk[name].(string))
		return b
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, coord("x")...), coord("y")...))
	if err != nil {
		b.Fatal(err)
	}

	const batch = 200
	var bearerNs, dpopNs, verifyNs, ratio []float64
	proofs := make([]string, batch)
	type signed struct {
		input string
		r, s  *big.Int
	}
	sigs := make([]signed, batch)
	round := 0
	for b.Loop() {
		b.StopTimer()
		for i := range proofs {
			proofs[i] = key.Proof("GET", url, bound)
			dot := strings.LastIndexByte(proofs[i], '.')
			sig, _ := base64.RawURLEncoding.DecodeString(proofs[i][dot+1:])
			sigs[i] = signed{proofs[i][:dot], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])}
		}
		// Making proofs allocates: collect now, not while a batch is timed.
		runtime.GC()
		b.StartTimer()

		start := time.Now()
		for range batch {
			if _, err := v.ValidatePresentation(ctx, bearer.Presentation{Token: plain, Method: "GET", URL: url}); err != nil {
				b.Fatal(err)
			}
		}
		be := float64(time.Since(start).Nanoseconds()) / batch

		// The two batches that are compared take turns at going first.
		var dp, ve float64
		dpopBatch := func() {
			start = time.Now()
			for _, p := range proofs {
				if _, err := v.ValidatePresentation(ctx, bearer.Presentation{Scheme: "DPoP", Token: bound, Method: "GET", URL: url, DPoP: []string{p}}); err != nil {
					b.Fatal(err)
				}
			}
			dp = float64(time.Since(start).Nanoseconds()) / batch
		}
		verifyBatch := func() {
			start = time.Now()
			for _, sg := range sigs {
				d := sha256.Sum256([]byte(sg.input))
				if !ecdsa.Verify(pub, d[:], sg.r, sg.s) {
					b.Fatal("verify")
				}
			}
			ve = float64(time.Since(start).Nanoseconds()) / batch
		}
		if round++; round%2 == 0 {
			dpopBatch()
			verifyBatch()
		} else {
			verifyBatch()
			dpopBatch()
		}

		bearerNs, dpopNs, verifyNs = append(bearerNs, be), append(dpopNs, dp), append(verifyNs, ve)
		ratio = append(ratio, (dp-be)/ve)
	}
	median := func(xs []float64) float64 { s := slices.Clone(xs); slices.Sort(s); return s[len(s)/2] }
	b.ReportMetric(median(bearerNs), "ns/bearer")
	b.ReportMetric(median(dpopNs), "ns/dpop")
	b.ReportMetric(median(verifyNs), "ns/verify")
	b.ReportMetric(median(ratio), "proof-cost/verify")
	b.ReportMetric(0, "ns/op")
}
