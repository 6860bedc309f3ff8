#!/usr/bin/env bash
# Runs every benchmark of bench/ once and writes the results to
# bench/results/<UTC time>/ (report.md gathers them; the raw files sit
# beside it). BENCHMARKS.md at the repository root reports one such run.
#
#   bench/run.sh                 # the full run, about 25 minutes
#   COUNT=3 HTTP_DURATION=1s WINDOW_ROUNDS=2 bench/run.sh   # a quick look
#
# Environment: COUNT (go test -count, default 10), BENCHTIME (default 1s),
# ROUNDS (paired rounds, default 40), HTTP_DURATION (per HTTP scenario,
# default 3s), HTTP_ROUNDS (paired unique-token rounds, default 30),
# WINDOW_ROUNDS and WINDOW_DURATION (paired one-token, cycling and
# cycling-first-seen-in-the-window rounds, default 8 of 10s per handler),
# MEMORY_TOKENS (default 100000), OUT (results directory).
# Run it on a quiet machine: other processes skew every figure, the
# paired ratios least.
set -euo pipefail
cd "$(dirname "$0")"
export GOWORK=off

COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-1s}
ROUNDS=${ROUNDS:-40}
HTTP_DURATION=${HTTP_DURATION:-3s}
HTTP_ROUNDS=${HTTP_ROUNDS:-30}
WINDOW_ROUNDS=${WINDOW_ROUNDS:-8}
WINDOW_DURATION=${WINDOW_DURATION:-10s}
MEMORY_TOKENS=${MEMORY_TOKENS:-100000}
OUT=${OUT:-results/$(date -u +%Y%m%dT%H%M%SZ)}
# benchstat, pinned: golang.org/x/perf has no tagged releases.
BENCHSTAT=(go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da)

# steal prints the share of CPU time the hypervisor gave to others while
# every CPU here was busy: the best single sign of a noisy host.
steal() {
	local before after pids=()
	before=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
	for _ in $(seq "$(nproc)"); do timeout 5 sh -c 'while :; do :; done' & pids+=($!); done
	wait "${pids[@]}" || true
	after=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
	echo "$before $after" | awk '{printf "%.1f %%\n", 100*($3-$1)/($4-$2)}'
}

mkdir -p "$OUT"
echo "bench/run.sh: writing to bench/$OUT" >&2

# Pin the HTTP server and load generator to different cores when we can.
PIN=(-server-cpu 0 -load-cpu 1)
if ! command -v taskset >/dev/null || [ "$(nproc)" -lt 2 ]; then
	echo "bench/run.sh: no taskset or a single CPU: HTTP runs are not pinned" >&2
	PIN=(-server-cpu "" -load-cpu "")
fi

{
	echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- .. 2>/dev/null || echo ', work tree with uncommitted changes')"
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)"
	echo "- kernel: $(uname -sr)"
	echo "- Go: $(go version | cut -d' ' -f3-)"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- CPU time the host took (steal) while every CPU ran a busy loop for 5 s: $(steal)"
} >"$OUT/machine.md"
cat "$OUT/machine.md" >&2

# The test binary runs COUNT times over all contenders, rather than once
# with -count, so that every contender's samples spread over the whole
# run and a noisy minute does not land on one contender only.
echo "bench/run.sh: go test -bench, $COUNT passes" >&2
go test -c -o "$OUT/bench.test" .
: >"$OUT/bench.txt"
for i in $(seq "$COUNT"); do
	echo "bench/run.sh: pass $i of $COUNT" >&2
	"$OUT/bench.test" -test.run '^$' -test.bench . -test.benchmem -test.benchtime "$BENCHTIME" -test.timeout 30m >>"$OUT/bench.txt"
done
rm "$OUT/bench.test"
go run ./cmd/table <"$OUT/bench.txt" >"$OUT/tables.md"
{
	echo "# medians with 95% confidence intervals"
	"${BENCHSTAT[@]}" -filter '.name:Validate' -row /lib -col /alg "$OUT/bench.txt"
	echo
	echo "# each contender against lib=bare"
	"${BENCHSTAT[@]}" -filter '.name:Validate' -row /alg -col /lib "$OUT/bench.txt"
	echo
	echo "# lib=bearer-revoked (10 000 revocations) against lib=bearer-warm (none)"
	"${BENCHSTAT[@]}" -filter '.name:Validate (/lib:bearer-warm OR /lib:bearer-revoked)' -row /alg -col /lib "$OUT/bench.txt"
	echo
	echo "# introspection against lib=post"
	"${BENCHSTAT[@]}" -filter '.name:Introspect' -row .name -col /lib "$OUT/bench.txt"
} >"$OUT/benchstat.txt" 2>&1

echo "bench/run.sh: paired runs" >&2
go run ./cmd/paired -rounds "$ROUNDS" >"$OUT/paired.md"

echo "bench/run.sh: paired runs, 10 000 revocations against none" >&2
go run ./cmd/paired -baseline bearer-warm -contenders bearer-revoked -introspection=false -rounds "$ROUNDS" -batch 2000 >"$OUT/paired-revocations.md"

echo "bench/run.sh: replicas on Redis: cache hits paired with in-memory, revocation propagation" >&2
go run ./cmd/replicas -rounds 400 -batch 500 -n 100 >"$OUT/replicas.md"

echo "bench/run.sh: HTTP throughput" >&2
go run ./cmd/httpbench -duration "$HTTP_DURATION" "${PIN[@]}" >"$OUT/http.md"

echo "bench/run.sh: HTTP, unique tokens, paired" >&2
go run ./cmd/httpbench -paired floor,bearer-cold,bearer-warm -rounds "$HTTP_ROUNDS" "${PIN[@]}" >"$OUT/http-paired.md"

echo "bench/run.sh: HTTP, one token and 10 000 cycling (seen in the warm-up, or first seen in the window), paired" >&2
for scenario in one cycle cycle-first; do
	go run ./cmd/httpbench -paired bare,bearer-warm -paired-scenario "$scenario" \
		-rounds "$WINDOW_ROUNDS" -duration "$WINDOW_DURATION" "${PIN[@]}"
	echo
done >"$OUT/http-windows.md"

echo "bench/run.sh: memory per cached token" >&2
go run ./cmd/memory -n "$MEMORY_TOKENS" >"$OUT/memory.md"

{
	echo "# bench/run.sh, $(date -u +%Y-%m-%d)"
	echo
	cat "$OUT/machine.md"
	echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "## go test -bench, count $COUNT"
	echo
	cat "$OUT/tables.md"
	echo "## Paired"
	echo
	cat "$OUT/paired.md"
	echo
	cat "$OUT/paired-revocations.md"
	echo
	echo "## Replicas on Redis"
	echo
	cat "$OUT/replicas.md"
	echo
	echo "## HTTP"
	echo
	cat "$OUT/http.md"
	echo
	cat "$OUT/http-paired.md"
	echo
	cat "$OUT/http-windows.md"
	echo "## Memory"
	echo
	cat "$OUT/memory.md"
	echo
	echo "benchstat: see benchstat.txt beside this file."
} >"$OUT/report.md"
cat "$OUT/report.md"
