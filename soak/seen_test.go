package main

import (
	"slices"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

func TestSeenCountsOnlyWhatACacheAnswers(t *testing.T) {
	s := newSeen(2)
	t0 := time.Now()
	if s.cached(goodRS256, 0, "a", t0) {
		t.Fatal("a token no replica accepted is cached")
	}
	s.accepted(goodRS256, 0, "a", t0)
	if !s.cached(goodRS256, 0, "a", t0) || s.cached(goodRS256, 1, "a", t0) {
		t.Fatal("a JWT is cached by the replica that accepted it, and by it only")
	}
	s.accepted(goodRef, 1, "r", t0)
	if !s.cached(goodRef, 0, "r", t0) || !s.cached(goodRef, 1, "r", t0) {
		t.Fatal("a reference token's answer is shared by every replica")
	}
	s.accepted(session, 0, "s", t0)
	if s.cached(session, 0, "s", t0) {
		t.Fatal("a class the target does not time is counted")
	}
	s.restarted(0)
	if s.cached(goodRS256, 0, "a", t0) || !s.cached(goodRef, 0, "r", t0) {
		t.Fatal("a restart forgets that replica's JWTs, not Redis's answers")
	}
	s.emptied()
	if s.cached(goodRef, 1, "r", t0) {
		t.Fatal("Redis restarted empty still holds an answer")
	}
}

// A validation is reused for cacheDuration after the request that
// cached it; the next request after that validates again, and caches
// the token anew.
func TestSeenForgetsWhatACacheExpired(t *testing.T) {
	s := newSeen(1)
	t0 := time.Now()
	s.accepted(goodRef, 0, "r", t0)
	s.accepted(goodES256, 0, "a", t0)
	for _, c := range []class{goodRef, goodES256} {
		tok := map[class]string{goodRef: "r", goodES256: "a"}[c]
		if !s.cached(c, 0, tok, t0.Add(cacheDuration-time.Millisecond)) {
			t.Errorf("%v: not cached within cacheDuration", c)
		}
		if s.cached(c, 0, tok, t0.Add(cacheDuration)) {
			t.Errorf("%v: still cached cacheDuration after", c)
		}
		s.accepted(c, 0, tok, t0.Add(cacheDuration))
		if !s.cached(c, 0, tok, t0.Add(cacheDuration+time.Second)) {
			t.Errorf("%v: not cached again after it was validated again", c)
		}
	}
}

func TestMintOneAlgorithm(t *testing.T) {
	a := bearertest.NewAuthority()
	defer a.Close()
	keys := []*bearertest.DPoPKey{bearertest.NewDPoPKey("ES256")}
	var p pools
	p.mint(a, keys, "")
	before := p.toks
	cached := slices.Clone(p.cached)
	a.RotateKey("RS256")
	p.mint(a, keys, "RS256")
	if slices.Equal(p.toks[goodRS256], before[goodRS256]) {
		t.Error("the RS256 pool was not minted again")
	}
	for _, c := range []class{goodPS256, goodES256, goodEdDSA, goodRef, expired, randomKid, noScope} {
		if !slices.Equal(p.toks[c], before[c]) {
			t.Errorf("%v was minted again at an RS256 rotation", c)
		}
	}
	if !slices.Equal(p.toks[cachedJWT], cached) {
		t.Error("the cached pool changed")
	}
}
