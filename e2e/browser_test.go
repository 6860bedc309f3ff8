//go:build unix

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The browser test's timing: the authority issues access tokens that live
// accessTokenTTL, and the SPA renews them renewBefore their expiry, so the
// walkthrough's silent renew happens within seconds.
const (
	accessTokenTTL = 8 * time.Second
	renewBefore    = 4 * time.Second
)

// TestBrowserWalkthrough runs the walkthrough in headless Chromium: the
// oidc-client-ts application (examples/spa) signs in at node-oidc-provider
// (examples/authority) and calls the example API (examples/api, built from
// this checkout) through the bearer middleware, renews its token silently
// and signs out. The authority then posts a logout token to the API's
// back-channel logout endpoint, and the access token from before the
// sign-out, replayed by the test, is refused as revoked within a second.
// browser.mjs drives the browser and saves a screenshot of each step in
// e2e/screenshots/.
func TestBrowserWalkthrough(t *testing.T) { browserWalkthrough(t, false) }

// TestBrowserWalkthroughDPoP runs the walkthrough's first steps with
// DPoP: oidc-client-ts binds the tokens to a key the browser holds and
// sends a proof with every call; the API accepts the calls, and refuses
// the same token replayed by the test as a Bearer token (RFC 9449 §7.2).
// Screenshots: e2e/screenshots/dpop/.
func TestBrowserWalkthroughDPoP(t *testing.T) { browserWalkthrough(t, true) }

func browserWalkthrough(t *testing.T, dpop bool) {
	node := requireNode(t)
	requireNodeModule(t, "examples/authority", "oidc-provider")
	requireNodeModule(t, "examples/spa", "oidc-client-ts")
	requireNodeModule(t, "e2e", "playwright-core")
	chromium := requireChromium(t)
	root := repoRoot(t)

	spaURL := "http://127.0.0.1:" + itoa(freePort(t))
	apiAddr := "127.0.0.1:" + itoa(freePort(t))
	a := startAuthority(t, authorityOptions{AccessTokenTTL: accessTokenTTL, SPAURL: spaURL, LogoutURL: "http://" + apiAddr + "/backchannel-logout"})

	api := buildAPI(t, root)
	apiProc := start(t, "api", root, nil, api,
		"-addr", apiAddr, "-authority", a.Issuer, "-audience", "api", "-scopes", "api",
		"-client-id", "api", "-client-secret", apiSecret, "-cors-origins", spaURL,
		// Without leeway the API refuses the first token once it expires, so
		// "Call API" succeeding afterwards proves the silent renew.
		"-leeway", "-1s")
	waitHTTP(t, apiProc, "http://"+apiAddr+"/healthz", 20*time.Second)

	spa := start(t, "spa", filepath.Join(root, "examples/spa"), []string{
		"PORT=" + spaURL[len("http://127.0.0.1:"):],
		"AUTHORITY=" + a.Issuer,
		"API_URL=http://" + apiAddr + "/values",
		"RENEW_BEFORE=" + itoa(int(renewBefore/time.Second)),
		"DPOP=" + strconv.FormatBool(dpop),
	}, node, "server.js")
	waitHTTP(t, spa, spaURL+"/index.html", 20*time.Second)

	screenshots := filepath.Join(root, "e2e", "screenshots")
	if dpop {
		screenshots = filepath.Join(screenshots, "dpop")
	}
	if err := os.MkdirAll(screenshots, 0o755); err != nil {
		t.Fatal(err)
	}
	driver := start(t, "browser", filepath.Join(root, "e2e"), []string{
		"SPA_URL=" + spaURL,
		"AUTHORITY=" + a.Issuer,
		"API_URL=http://" + apiAddr + "/values",
		"CHROMIUM=" + chromium,
		"SCREENSHOTS=" + screenshots,
		"ACCESS_TOKEN_TTL=" + itoa(int(accessTokenTTL/time.Second)),
		"DPOP=" + strconv.FormatBool(dpop),
	}, node, "browser.mjs")
	select {
	case <-driver.done:
	case <-time.After(2 * time.Minute):
		driver.stop()
		t.Fatalf("browser.mjs did not finish within 2 minutes:\n%s", driver.out)
	}
	// The driver prints one line per step, never a token.
	t.Logf("browser.mjs:\n%s", driver.out)
	if driver.err != nil {
		t.Fatalf("browser walkthrough failed (%v); screenshots in %s", driver.err, screenshots)
	}
}

// buildAPI builds examples/api from this checkout, with the race detector
// when the tests have it.
func buildAPI(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "api")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./examples/api")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		need(t, "the go command on PATH (to build examples/api)")
	}
	cmd := exec.CommandContext(ctx, gocmd, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	return bin
}
