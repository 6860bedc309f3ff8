package main

import (
	crand "crypto/rand"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

const (
	clientID     = "api"
	clientSecret = "soak-secret"
	poolSize     = 32
	// dpopHost is the Host of DPoP requests, and their proofs' htu: one
	// proof is then good on every replica, so a replay to another is a
	// replay, not a proof for another URL.
	dpopHost = "api.example"
)

// pools are the tokens the traffic presents, minted again after each key
// rotation so that each is signed by a key still published.
type pools struct {
	mu   sync.RWMutex
	toks [nClasses][]string
	dpop []dpopToken
	// cached are minted once, at the start: their keys stay published.
	cached []string
}

type dpopToken struct {
	key   *bearertest.DPoPKey
	token string
}

var goodAlgs = map[class]string{goodRS256: "RS256", goodPS256: "PS256", goodES256: "ES256", goodEdDSA: "EdDSA"}

func good() bearertest.Payload { return bearertest.Payload{"aud": "api", "scope": "api"} }

// mint fills the pools of the tokens alg signs with the authority's
// current key for it (every pool if alg is ""). Reference tokens are
// minted with ES256's pools.
func (p *pools) mint(a *bearertest.Authority, dpopKeys []*bearertest.DPoPKey, alg string) {
	signs := func(k string) bool { return alg == "" || alg == k }
	var t [nClasses][]string
	for range poolSize {
		for c, k := range goodAlgs {
			if signs(k) {
				t[c] = append(t[c], a.TokenWith(k, nil, good()))
			}
		}
		if signs("EdDSA") {
			t[noScope] = append(t[noScope], a.TokenWith("EdDSA", nil, bearertest.Payload{"aud": "api", "scope": "other"}))
		}
		if !signs("ES256") {
			continue
		}
		t[goodRef] = append(t[goodRef], a.ReferenceToken(good()))
		t[expired] = append(t[expired], a.TokenWith("ES256", nil, bearertest.Payload{"aud": "api", "scope": "api",
			"iat": time.Now().Add(-time.Hour), "exp": time.Now().Add(-10 * time.Minute)}))
		t[wrongAud] = append(t[wrongAud], a.TokenWith("ES256", nil, bearertest.Payload{"aud": "another-api", "scope": "api"}))
		t[forged] = append(t[forged], forge(a.TokenWith("ES256", nil, good())))
		t[randomKid] = append(t[randomKid], a.TokenWith("ES256", map[string]any{"kid": crand.Text()}, good()))
		t[garbage] = append(t[garbage], junk())
		ref := a.ReferenceToken(good())
		a.Revoke(ref)
		t[revokedRef] = append(t[revokedRef], ref)
	}
	var d []dpopToken
	if signs("ES256") {
		for _, k := range dpopKeys {
			c := good()
			c["cnf"] = k.Confirmation()
			d = append(d, dpopToken{k, a.TokenWith("ES256", nil, c)})
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cached == nil {
		for i := range poolSize {
			p.cached = append(p.cached, a.TokenWith([]string{"RS256", "ES256"}[i%2], nil, good()))
		}
	}
	t[cachedJWT] = p.cached
	for c, toks := range t {
		if toks != nil {
			p.toks[c] = toks
		}
	}
	if d != nil {
		p.dpop = d
	}
}

func (p *pools) pick(c class) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s := p.toks[c]
	return s[rand.IntN(len(s))]
}

func (p *pools) pickDPoP() dpopToken {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.dpop[rand.IntN(len(p.dpop))]
}

// forge changes the subject in a token's payload, keeping its header and
// signature.
func forge(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), `"sub":"alice"`, `"sub":"admin"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// junk is something that is not a token: random text, sometimes in three
// dotted parts.
func junk() string {
	s := crand.Text() + crand.Text()
	s = s[:1+mrand(len(s)-1)]
	if mrand(2) == 0 {
		return s + "." + crand.Text() + "." + crand.Text()
	}
	return s
}

func mrand(n int) int { return rand.IntN(max(n, 1)) }

// sess is a user's session: its token is good until the authority signs
// it out, then must be refused once the bound has passed.
type sess struct {
	id    string
	token string
	// started is when the sign-out was first asked for (Unix ns; 0: not
	// yet), and at when a replica acknowledged it.
	started, at atomic.Int64
}
