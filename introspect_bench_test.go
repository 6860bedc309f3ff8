package bearer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// go test -run xxx -bench Introspect -benchmem -count 5 .

func BenchmarkIntrospectCacheHit(b *testing.B) {
	a := bearertest.New(b)
	in := newIntrospector(b, a, bearer.Config{})
	tok := a.ReferenceToken(bearertest.Payload{"scope": "api", "aud": "api"})
	ctx := context.Background()
	if _, err := in.Introspect(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.Introspect(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	if n := a.Hits(bearertest.Introspection); n != 1 {
		b.Fatalf("%d calls", n)
	}
}

// BenchmarkIntrospectMiss makes every Introspect a call to a loopback
// endpoint; compare with BenchmarkIntrospectPlainPOST.
func BenchmarkIntrospectMiss(b *testing.B) {
	a := bearertest.New(b)
	in := newIntrospector(b, a, bearer.Config{CacheDuration: -1, InactiveCacheDuration: -1})
	tok := a.ReferenceToken(bearertest.Payload{"scope": "api", "aud": "api"})
	ctx := context.Background()
	if _, err := in.Introspect(ctx, tok); err != nil { // discovery out of the loop
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r, err := in.Introspect(ctx, tok); err != nil || !r.Active {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkIntrospectPlainPOST is the same request made with net/http
// alone, its body read and nothing else: the floor for a miss.
func BenchmarkIntrospectPlainPOST(b *testing.B) {
	benchmarkPlainPOST(b, false)
}

// BenchmarkIntrospectPlainPOSTDecoded adds what any client must do too: a
// deadline on the request and decoding the answer (here into a map).
func BenchmarkIntrospectPlainPOSTDecoded(b *testing.B) {
	benchmarkPlainPOST(b, true)
}

func benchmarkPlainPOST(b *testing.B, decode bool) {
	a := bearertest.New(b)
	tok := a.ReferenceToken(bearertest.Payload{"scope": "api", "aud": "api"})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	authz := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(bearertest.DefaultClientID)+":"+url.QueryEscape(bearertest.DefaultClientSecret)))
	body := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}.Encode()
	endpoint := a.IntrospectionURL()
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if decode {
			ctx, cancel = context.WithTimeout(ctx, bearer.DefaultTimeout)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", authz)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp.StatusCode, err)
		}
		resp.Body.Close()
		if decode {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil || m["active"] != true {
				b.Fatal(m, err)
			}
		}
		cancel()
	}
}
