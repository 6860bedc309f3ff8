#!/usr/bin/env bash
# Runs every fuzz target of the core module for a fixed time each and
# prints what it did. A failing input is kept by go test under
# testdata/fuzz/<target>/ and the script exits non-zero.
#
#   scripts/fuzz.sh            # 60 s per target
#   FUZZTIME=5m scripts/fuzz.sh
#   scripts/fuzz.sh FuzzValidate FuzzParseResult   # only these
#
# FUZZTIME is any go test -fuzztime value; FUZZPARALLEL sets the workers
# (default: go test's, one per CPU). Logs go to ${FUZZLOG:-/tmp/bearer-fuzz}.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-60s}
logdir=${FUZZLOG:-/tmp/bearer-fuzz}
mkdir -p "$logdir"

# package target, one per line.
targets="
. FuzzValidate
. FuzzValidateSigned
. FuzzDecodeClaims
. FuzzDecodeHeader
. FuzzParseJWKS
. FuzzParseMetadata
. FuzzParseResult
. FuzzScopes
. FuzzChallenge
. FuzzJWSShapeIsB64Token
./middleware FuzzTokenFromAuthorization
./middleware FuzzMiddleware
./middleware FuzzMalformedFirst
"

parallel=()
if [ -n "${FUZZPARALLEL:-}" ]; then
  parallel=(-parallel "$FUZZPARALLEL")
fi

failed=0
start=$(date +%s)
while read -r pkg target; do
  [ -n "$target" ] || continue
  if [ $# -gt 0 ] && [[ " $* " != *" $target "* ]]; then
    continue
  fi
  log="$logdir/$target.log"
  t0=$(date +%s)
  if go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "${parallel[@]}" >"$log" 2>&1; then
    result=ok
  else
    result=FAIL
    failed=1
  fi
  # The last progress line says how many inputs ran and the corpus size.
  progress=$(grep -E '^fuzz: elapsed' "$log" | tail -1 | sed -E 's/^fuzz: //' || true)
  printf '%-28s %-4s %4ss  %s\n' "$target" "$result" "$(( $(date +%s) - t0 ))" "$progress"
  if [ "$result" = FAIL ]; then
    tail -20 "$log"
  fi
done <<<"$targets"
echo "total: $(( $(date +%s) - start ))s of fuzzing at $fuzztime per target; logs in $logdir"
exit $failed
