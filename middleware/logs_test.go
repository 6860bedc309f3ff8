package middleware_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/conformance"
	"github.com/accesstoken/bearer/internal/testlog"
	"github.com/accesstoken/bearer/middleware"
)

// TestLogsNeverHoldTokens runs the whole conformance table (valid and
// invalid tokens, introspection, an unreachable, slow, garbled or
// redirecting authority) through the middleware with every log at debug
// level going to one buffer: the validators', the middleware's and
// slog.Default's. No token, nor any 20-character piece of one, may
// appear in it.
func TestLogsNeverHoldTokens(t *testing.T) {
	var logs testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(logger)

	var mu sync.Mutex
	var tokens []string
	// Registered first, so it runs last: after the validators closed and
	// logged whatever they log on the way out.
	t.Cleanup(func() {
		slog.SetDefault(prev)
		out := logs.String()
		if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "level=WARN") {
			t.Errorf("expected refusals at debug and failures at warn; got:\n%s", out)
		}
		if leak := tokenMaterial(out, tokens, 20); leak != "" {
			t.Errorf("logs contain token material %q:\n%s", leak, out)
		}
		t.Logf("%d bytes of logs checked against %d tokens", len(out), len(tokens))
	})

	env := conformance.NewEnvLogging(t, logger)
	build := func(v *bearer.Validator, g conformance.Guard) http.Handler {
		guard := middleware.New(v, append(g.Options(), middleware.Logger(logger))...)
		return guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, _ := bearer.ClaimsFromContext(r.Context())
			conformance.Respond(w, r, claims)
		}))
	}
	t.Run("table", func(t *testing.T) {
		for _, c := range conformance.Cases() {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				token := env.Token(c)
				mu.Lock()
				tokens = append(tokens, token)
				mu.Unlock()
				srv := httptest.NewServer(build(env.Validator(c), c.Guard))
				defer srv.Close()
				resp, err := srv.Client().Do(c.Request(srv.URL, token))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
	})
}

// tokenMaterial returns a piece of n bytes of one of tokens found in out,
// or "". Tokens shorter than n are not looked for.
func tokenMaterial(out string, tokens []string, n int) string {
	windows := make(map[string]bool, len(out))
	for i := 0; i+n <= len(out); i++ {
		windows[out[i:i+n]] = true
	}
	for _, token := range tokens {
		for i := 0; i+n <= len(token); i++ {
			if windows[token[i:i+n]] {
				return token[i : i+n]
			}
		}
	}
	return ""
}

// TestTokenMaterial checks the checker.
func TestTokenMaterial(t *testing.T) {
	token := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	if got := tokenMaterial("x token="+token[10:30]+" y", []string{token}, 20); got != token[10:30] {
		t.Errorf("missed a piece: %q", got)
	}
	if got := tokenMaterial("x token="+token[10:29]+" y", []string{token}, 20); got != "" {
		t.Errorf("found %q in a 19-byte piece", got)
	}
}
