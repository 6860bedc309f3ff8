package main

import (
	"slices"
	"testing"

	"github.com/accesstoken/bearer/bearertest"
)

func TestSeenCountsOnlyWhatACacheAnswers(t *testing.T) {
	s := newSeen(2)
	if s.cached(goodRS256, 0, "a") {
		t.Fatal("a token no replica accepted is cached")
	}
	s.accepted(goodRS256, 0, "a")
	if !s.cached(goodRS256, 0, "a") || s.cached(goodRS256, 1, "a") {
		t.Fatal("a JWT is cached by the replica that accepted it, and by it only")
	}
	s.accepted(goodRef, 1, "r")
	if !s.cached(goodRef, 0, "r") || !s.cached(goodRef, 1, "r") {
		t.Fatal("a reference token's answer is shared by every replica")
	}
	s.accepted(session, 0, "s")
	if s.cached(session, 0, "s") {
		t.Fatal("a class the target does not time is counted")
	}
	s.restarted(0)
	if s.cached(goodRS256, 0, "a") || !s.cached(goodRef, 0, "r") {
		t.Fatal("a restart forgets that replica's JWTs, not Redis's answers")
	}
	s.emptied()
	if s.cached(goodRef, 1, "r") {
		t.Fatal("Redis restarted empty still holds an answer")
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
