// Package e2e proves the walkthrough with real parts: node-oidc-provider
// as the authority (examples/authority), the bearer middleware in front of
// an API, and, in the browser test, headless Chromium driving the
// oidc-client-ts application (examples/spa) against the example API
// (examples/api).
//
// It has no code of its own, only tests; they start every process they
// need on free loopback ports and stop them at the end. They need Node.js,
// the npm packages of examples/authority, examples/spa and this folder,
// and Debian's chromium and redis-server (for the replicas test):
// scripts/ci-deps.sh installs them. Without them the
// tests skip, saying what is missing; with CI=true they fail instead.
//
//	scripts/ci-deps.sh
//	go test -race -count=1 ./e2e/...
//
// The browser test saves a screenshot of each step in e2e/screenshots/.
package e2e
