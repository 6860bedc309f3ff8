#!/usr/bin/env bash
# The checks CI runs beside the tests (.ci/run), over every module of
# go.work: gofmt; go vet; staticcheck; each module's go.mod tidy and its
# go.sum complete on its own (GOWORK=off, as a user of that module
# builds it); go.work.sum complete, so that go vet, go doc or go list in
# any module leaves the tree unchanged; govulncheck (scripts/vulncheck.sh).
# The core is vetted under Go 1.27 too, for its //go:build go1.27 files.
# Tools come from the Go module proxy at pinned versions.
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
all=github.com/accesstoken/bearer/...
modules=$(go list -m -f '{{.Dir}}')

# sums fingerprints every file a go command may write to.
sums() { find . -name node_modules -prune -o \( -name go.mod -o -name go.sum -o -name go.work -o -name go.work.sum \) -print | sort | xargs cat | cksum; }
before=$(sums)

step() { echo "checks: $*"; }

step gofmt
unformatted=$(find . -name node_modules -prune -o -name '*.go' -print | xargs gofmt -l)
if [ -n "$unformatted" ]; then
  echo "not gofmt'ed:" $unformatted >&2
  exit 1
fi

step "go.mod tidy and go.sum complete in each module on its own"
for mod in $modules; do
  (cd "$mod" && GOWORK=off go mod tidy -diff >/dev/null && GOWORK=off GOFLAGS=-mod=readonly go list -deps -test ./... >/dev/null) ||
    { echo "checks: ${mod#"$PWD"}: run GOWORK=off go mod tidy there and commit go.mod and go.sum" >&2; exit 1; }
done

step "go.work.sum complete: go list -m all, go doc in each module"
go list -m all >/dev/null
for mod in $modules; do
  (cd "$mod" && go doc >/dev/null 2>&1 || true)
done

step go vet
go vet "$all"

step "go vet under Go 1.27 (the go1.27 files, which staticcheck at 1.26 does not see)"
GOTOOLCHAIN=go1.27.3 go vet . ./bearertest ./internal/...

step staticcheck
go run "$STATICCHECK" "$all"

step govulncheck
scripts/vulncheck.sh

if [ "$(sums)" != "$before" ]; then
  echo "checks: a go command changed go.mod, go.sum or go.work.sum files:" >&2
  git status --short -- '*go.mod' '*go.sum' go.work go.work.sum >&2 || true
  echo "checks: commit what it added (go.work.sum is kept complete so that go vet or go doc in any module changes nothing)" >&2
  exit 1
fi
echo "checks: all passed"
