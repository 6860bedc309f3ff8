package e2e

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// installHint is what a developer should run when something is missing.
const installHint = "run scripts/ci-deps.sh (as root: it installs chromium with apt-get and runs npm ci in examples/authority, examples/spa and e2e)"

// need reports a missing dependency. In CI everything must have been
// installed, so a gap is a failure there; on a developer's machine the test
// is skipped with what to install.
func need(t testing.TB, missing string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("missing %s (CI=true: dependencies are required); %s", missing, installHint)
	}
	t.Skipf("missing %s; %s", missing, installHint)
}

// repoRoot is the repository's root: go test runs in this folder.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// requireNode returns the path of node.
func requireNode(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "Node.js (node on PATH; Debian: apt-get install -y nodejs npm)")
	}
	return node
}

// requireNodeModule checks that npm ci has been run in dir (relative to the
// repository root) by looking for one package it installs.
func requireNodeModule(t testing.TB, dir, pkg string) {
	t.Helper()
	path := filepath.Join(repoRoot(t), dir, "node_modules", pkg, "package.json")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		need(t, "npm package "+pkg+" in "+dir+" (npm ci in "+dir+")")
	} else if err != nil {
		t.Fatal(err)
	}
}

// requireChromium returns the browser to drive: $CHROMIUM, or Debian's
// /usr/bin/chromium.
func requireChromium(t testing.TB) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		need(t, "Chromium at "+path+" (Debian: apt-get install -y chromium)")
	}
	return path
}
