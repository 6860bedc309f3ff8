package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"slices"
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
// a proof-sized input, the floor of any proof check. It reports the
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

	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	input := []byte(key.Proof("GET", url, bound))
	digest := sha256.Sum256(input)
	sig, _ := ecdsa.SignASN1(rand.Reader, priv, digest[:])

	const batch = 200
	var bearerNs, dpopNs, verifyNs, ratio []float64
	proofs := make([]string, batch)
	for b.Loop() {
		b.StopTimer()
		for i := range proofs {
			proofs[i] = key.Proof("GET", url, bound)
		}
		b.StartTimer()

		start := time.Now()
		for range batch {
			if _, err := v.ValidatePresentation(ctx, bearer.Presentation{Token: plain, Method: "GET", URL: url}); err != nil {
				b.Fatal(err)
			}
		}
		be := float64(time.Since(start).Nanoseconds()) / batch

		start = time.Now()
		for _, p := range proofs {
			if _, err := v.ValidatePresentation(ctx, bearer.Presentation{Scheme: "DPoP", Token: bound, Method: "GET", URL: url, DPoP: []string{p}}); err != nil {
				b.Fatal(err)
			}
		}
		dp := float64(time.Since(start).Nanoseconds()) / batch

		start = time.Now()
		for range batch {
			d := sha256.Sum256(input)
			if !ecdsa.VerifyASN1(&priv.PublicKey, d[:], sig) {
				b.Fatal("verify")
			}
		}
		ve := float64(time.Since(start).Nanoseconds()) / batch

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
