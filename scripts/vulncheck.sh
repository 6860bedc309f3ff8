#!/usr/bin/env bash
# govulncheck over every module of go.work, each on its own (GOWORK=off),
# so that each is judged by the versions its own go.mod requires: those a
# user of that module gets at least.
#
#   scripts/vulncheck.sh               # module scan: fails on any vulnerable version required
#   scripts/vulncheck.sh -scan symbol  # only vulnerabilities the code calls (slower)
#
# The reports are built from the Go team's golang.org/x/vulndb module, as
# the Go module proxy serves it, with that module's own cmd/indexdb, so
# that CI needs no host but the module proxy; the database is as fresh as
# the newest version of golang.org/x/vulndb the proxy has, which the script
# prints. GOVULNDB=URL chooses another database (e.g. the Go team's
# hosted one, where it is reachable).
#
# Vulnerabilities of the standard library are the Go toolchain's, not the
# code's: they are printed as a warning to upgrade Go and do not fail.
set -euo pipefail
cd "$(dirname "$0")/.."

GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.10.0
scan=module
if [ "${1:-}" = "-scan" ]; then
  scan=${2:?-scan module, package or symbol}
fi

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN=$bin go install "$GOVULNCHECK"

db=${GOVULNDB:-}
if [ -z "$db" ]; then
  version=$(go list -m -f '{{.Version}}' golang.org/x/vulndb@latest)
  dir=${XDG_CACHE_HOME:-$HOME/.cache}/bearer-vulndb/$version
  if [ ! -f "$dir/index/modules.json" ]; then
    src=$(go mod download -json "golang.org/x/vulndb@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    rm -rf "$dir.tmp"
    go run "golang.org/x/vulndb/cmd/indexdb@$version" -vulns "$src/data/osv" -out "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  echo "vulncheck: database built from golang.org/x/vulndb@$version (module proxy)"
  db=file://$dir
fi

status=0
for mod in $(go list -m -f '{{.Dir}}'); do
  name=${mod#"$PWD"}
  name=${name#/}
  args=(-db "$db" -scan "$scan" -format json)
  [ "$scan" = module ] || args+=(./...)
  (cd "$mod" && GOWORK=off "$bin/govulncheck" "${args[@]}") |
    go run scripts/vulnreport.go "${name:-.}" || status=1
done
exit $status
