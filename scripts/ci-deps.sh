#!/usr/bin/env bash
# Installs what the end-to-end tests (e2e/) need on a clean Debian machine,
# and does nothing that is already done, so it can run before every test
# run: Debian's chromium and redis-server (as root), and the npm packages of the example
# authority, the example SPA and the browser driver, from their lockfiles.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: chromium for the browser walkthrough, redis-server for
# the tests of shared state between replicas (stores/redis, e2e).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ci-deps: missing ${missing[*]}; as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "ci-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v npm >/dev/null; then
  echo "ci-deps: npm is missing (Node.js 20 or later with npm)" >&2
  exit 1
fi

for dir in examples/authority examples/spa e2e; do
  # npm ci deletes and reinstalls node_modules: skip it when the tree npm
  # recorded there is newer than the lockfile.
  if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    continue
  fi
  echo "ci-deps: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
