package bearer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/alphabet"
)

// memoValidator is a Validator for a without the validated-token cache, so
// that every token is read and verified, and its one authority.
func memoValidator(t *testing.T, a *bearertest.Authority) (*Validator, *authority) {
	t.Helper()
	v, err := New(context.Background(), Config{Authority: a.Issuer(), Audience: []string{"api"}, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	if err := v.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	return v, v.sole
}

func memoClaims() bearertest.Payload { return bearertest.Payload{"aud": "api"} }

// headerOf is the encoded header of token.
func headerOf(token string) string { return token[:strings.IndexByte(token, '.')] }

// TestHeaderMemoServesOnlyItsOwnBytes: a remembered header is served for
// its very bytes only. Every header that differs from it by one character
// of its encoding is read afresh, and one that differs by one byte of its
// JSON is judged by what it says: a typ or alg refused, a member
// forbidden.
func TestHeaderMemoServesOnlyItsOwnBytes(t *testing.T) {
	a := bearertest.New(t)
	v, au := memoValidator(t, a)
	ctx := context.Background()
	kid := a.KeyID("RS256")
	sign := func(header string) string {
		return a.Sign("RS256", []byte(header), []byte(fmt.Sprintf(`{"iss":%q,"aud":"api","exp":9999999999}`, a.Issuer())))
	}
	good := sign(`{"alg":"RS256","kid":"` + kid + `","typ":"at+jwt"}`)
	if _, err := v.Validate(ctx, good); err != nil {
		t.Fatal(err)
	}
	seg := headerOf(good)
	if h := au.headers.get(seg); h == nil || h.alg != "RS256" || h.kid != kid || h.typ != "at+jwt" {
		t.Fatalf("after a good token, the memo holds %+v", h)
	}
	for i := range len(seg) {
		for _, c := range []byte("AZaz09-_") {
			if c == seg[i] {
				continue
			}
			if h := au.headers.get(seg[:i] + string(c) + seg[i+1:]); h != nil {
				t.Fatalf("segment changed at %d served %+v", i, h)
			}
		}
	}
	for _, c := range []struct {
		header string
		reason error
	}{
		{`{"alg":"RS256","kid":"` + kid + `","typ":"at+jwu"}`, ErrTokenType},
		{`{"alg":"RS257","kid":"` + kid + `","typ":"at+jwt"}`, ErrAlgorithm},
		{`{"alg":"RS256","kid":"` + kid + `","typ":"at+jwt","jku":"x"}`, ErrHeader},
		{`{"alg":"RS256","kid":"` + kid + `","typ":"at+jwt"} `, nil}, // the same members: accepted
	} {
		_, err := v.Validate(ctx, sign(c.header))
		switch {
		case c.reason == nil && err != nil:
			t.Errorf("%s: %v", c.header, err)
		case c.reason != nil && !errors.Is(err, c.reason):
			t.Errorf("%s: %v, want %v", c.header, err, c.reason)
		}
	}
}

// TestHeaderMemoHoldsVerifiedHeadersOnly: a header enters the memo only
// once a token that carries it verifies, so tokens nobody signed leave it
// as it was.
func TestHeaderMemoHoldsVerifiedHeadersOnly(t *testing.T) {
	a, other := bearertest.New(t), bearertest.New(t)
	v, au := memoValidator(t, a)
	ctx := context.Background()
	forged := other.TokenWith("RS256", map[string]any{"kid": a.KeyID("RS256")}, bearertest.Payload{"aud": "api", "iss": a.Issuer()})
	if _, err := v.Validate(ctx, forged); !errors.Is(err, ErrSignature) {
		t.Fatalf("forged token: %v, want ErrSignature", err)
	}
	if h := au.headers.get(headerOf(forged)); h != nil {
		t.Fatalf("a token that did not verify left %+v in the memo", h)
	}
	good := a.TokenWith("RS256", map[string]any{"kid": a.KeyID("RS256")}, memoClaims())
	if headerOf(good) != headerOf(forged) {
		t.Fatal("the two tokens' headers differ")
	}
	if _, err := v.Validate(ctx, good); err != nil {
		t.Fatal(err)
	}
	if au.headers.get(headerOf(good)) == nil {
		t.Fatal("the good token's header is not remembered")
	}
	// Remembered, it verifies nothing by itself.
	if _, err := v.Validate(ctx, forged); !errors.Is(err, ErrSignature) {
		t.Fatalf("forged token, its header remembered: %v, want ErrSignature", err)
	}
}

// TestHeaderMemoKeepsNoKeyChoice: a remembered header names a kid, not a
// key: once the key set no longer holds that kid's key, a token with that
// very header is refused.
func TestHeaderMemoKeepsNoKeyChoice(t *testing.T) {
	a := bearertest.New(t)
	v, au := memoValidator(t, a)
	ctx := context.Background()
	oldKid := a.KeyID("RS256")
	old := a.Token(memoClaims())
	if _, err := v.Validate(ctx, old); err != nil {
		t.Fatal(err)
	}
	if au.headers.get(headerOf(old)) == nil {
		t.Fatal("header not remembered")
	}
	a.RotateKey("RS256")
	a.Unpublish(oldKid)
	if _, err := v.Validate(ctx, a.Token(memoClaims())); err != nil { // fetches the new set
		t.Fatal(err)
	}
	if _, err := v.Validate(ctx, old); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("token of an unpublished key, header remembered: %v, want ErrUnknownKey", err)
	}
}

// TestHeaderMemoBounded: however many headers verify, the memo holds
// headerSlots of them, none longer than maxMemoHeader.
func TestHeaderMemoBounded(t *testing.T) {
	var m headerMemo
	for i := range 1000 {
		var tok jws
		if err := tok.read(hs256Token(fmt.Sprintf(`{"alg":"HS256","kid":"k%d"}`, i)), &hs256Policy); err != nil {
			t.Fatal(err)
		}
		m.put(&tok)
	}
	long := `{"alg":"HS256","kid":"` + strings.Repeat("k", maxMemoHeader) + `"}`
	var tok jws
	if err := tok.read(hs256Token(long), &hs256Policy); err != nil {
		t.Fatal(err)
	}
	m.put(&tok)
	if m.get(headerOf(tok.token)) != nil {
		t.Error("a header longer than maxMemoHeader is remembered")
	}
	n := 0
	for i := range m.slots {
		if h := m.slots[i].Load(); h != nil {
			n++
			if len(h.seg) > maxMemoHeader {
				t.Errorf("entry of %d bytes", len(h.seg))
			}
		}
	}
	if n != headerSlots {
		t.Errorf("%d entries, want %d", n, headerSlots)
	}
	// The latest ones are there.
	for i := 1000 - headerSlots; i < 1000; i++ {
		if m.get(b64.EncodeToString(fmt.Appendf(nil, `{"alg":"HS256","kid":"k%d"}`, i))) == nil {
			t.Errorf("header %d of the last %d forgotten", i, headerSlots)
		}
	}
}

var hs256Policy = jwsPolicy{maxSize: 1 << 14, algs: []string{"HS256"}, secret: []byte("secret")}

// hs256Token is a token under header, its signature not checked here.
func hs256Token(header string) string {
	return b64.EncodeToString([]byte(header)) + ".e30.c2ln"
}

// TestHeaderMemoConcurrent: requests that validate tokens of more headers
// than the memo holds, good ones and ones whose typ is refused, all at
// once, each get the answer their own header calls for (run with -race).
func TestHeaderMemoConcurrent(t *testing.T) {
	a := bearertest.New(t)
	v, _ := memoValidator(t, a)
	ctx := context.Background()
	type token struct {
		raw  string
		good bool
	}
	var tokens []token
	for i := range 3 * headerSlots {
		typ := "at+jwt"
		if i%3 == 0 {
			typ = "logout+jwt"
		}
		header := map[string]any{"typ": typ, "x": i}
		tokens = append(tokens, token{a.TokenWith("ES256", header, memoClaims()), typ == "at+jwt"})
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for round := range 20 {
				tok := tokens[(g*7+round*5)%len(tokens)]
				_, err := v.Validate(ctx, tok.raw)
				if tok.good && err != nil || !tok.good && !errors.Is(err, ErrTokenType) {
					t.Errorf("good %v: %v", tok.good, err)
				}
			}
		})
	}
	wg.Wait()
}

// FuzzSegmentDecodes: for a segment of the base64url alphabet, decodes,
// which decodes only its last quantum, says what decoding it all says.
func FuzzSegmentDecodes(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "eyJhbGciOiJSUzI1NiJ9", "c2ln", "c2lnQ", "c2lnQQ", "c2lnQR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		if !alphabet.Base64URL.Spells(seg) {
			return
		}
		_, err := b64.DecodeString(seg)
		if got := decodes(seg); got != (err == nil) {
			t.Fatalf("decodes(%q) = %v, decoding says %v", seg, got, err)
		}
	})
}
