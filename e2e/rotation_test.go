//go:build unix

package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// withKid returns token with its header's kid replaced: the signature no
// longer matters, the kid is one the authority never published.
func withKid(t *testing.T, token, kid string) string {
	t.Helper()
	alg, _ := jwsHeader(t, token)
	header := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"alg":%q,"typ":"at+jwt","kid":%q}`, alg, kid))
	return header + token[strings.IndexByte(token, '.'):]
}

// TestKeyRotationAfterUnknownKidTraffic: a burst of tokens with random
// kids (an attacker, or a misconfigured client) right before a real
// rotation at node-oidc-provider costs the new key's first token nothing:
// it is accepted on its first request (issue 17 §1).
func TestKeyRotationAfterUnknownKidTraffic(t *testing.T) {
	a := startAuthority(t, authorityOptions{})
	api := apiServer(t, a.validator(nil)) // the default KeyRefreshWindow and Timeout
	good := a.token("svc", "api", apiResource)
	wantStatus(t, "token before rotation", call(t, api, good), http.StatusOK, "")

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := call(t, api, withKid(t, good, fmt.Sprintf("random-%d", i)))
			wantStatus(t, "random kid", r, http.StatusUnauthorized, "invalid_token")
		}()
	}
	wg.Wait()

	a.rotateKeys()
	a.restart()
	rotated := a.token("svc", "api", apiResource)
	_, kid := jwsHeader(t, rotated)
	_, oldKid := jwsHeader(t, good)
	if kid == oldKid {
		t.Fatalf("the authority still signs with %s", kid)
	}
	start := time.Now()
	wantStatus(t, "new key's token right after the burst, first request", call(t, api, rotated), http.StatusOK, "")
	t.Logf("after 200 random-kid tokens, the rotated key's first token waited %v", time.Since(start).Round(time.Millisecond))
	wantStatus(t, "old key's token", call(t, api, good), http.StatusOK, "")
}
