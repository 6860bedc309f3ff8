#!/usr/bin/env bash
# Measures what the Observer hook costs a cache hit when no Observer is
# set: bench/'s warm-path benchmarks (a token served from the
# validated-token cache) built at BASE, the commit before the hook, and
# at the work tree, run in alternation (the order swapped every round) so
# that a busy neighbour slows both. It prints benchstat's comparison, then
# the paired figure to hold against the target: per benchmark, the median
# over the rounds of after/before within a round, with its quartiles. In a
# round each binary runs COUNT short passes and the fastest counts: a pass
# that a neighbour interrupted is slower, never faster.
#
#   bench/observer.sh 246bcd0            # 40 rounds of 5 passes of 100 ms
#   ROUNDS=60 BENCH='Validate/alg=ES256/lib=bearer-warm$' bench/observer.sh 246bcd0
#   PKG=. BENCH='Validate/(RS256|ES256)/warm$' bench/observer.sh 246bcd0   # the core's own
set -euo pipefail
cd "$(dirname "$0")"
export GOWORK=off
BASE=${1:?usage: bench/observer.sh BASE-COMMIT}
ROUNDS=${ROUNDS:-40}
COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-100ms}
BENCH=${BENCH:-Validate/alg=(RS256|ES256)/lib=bearer-warm$}
PKG=${PKG:-bench} # the benchmarks' directory, from the repository's root
# benchstat, pinned as in run.sh.
BENCHSTAT=(go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C .. archive "$BASE" | tar -x -C "$tmp"
(cd "$tmp/$PKG" && go test -c -o "$tmp/before.test")
(cd "../$PKG" && go test -c -o "$tmp/after.test")
for i in $(seq "$ROUNDS"); do
	order=(before after)
	if ((i % 2 == 0)); then order=(after before); fi
	for which in "${order[@]}"; do
		"$tmp/$which.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count "$COUNT" -test.benchmem |
			grep '^Benchmark' | tee -a "$tmp/$which.txt" | sed "s/^/$i $which /" >>"$tmp/paired.txt"
	done
done
"${BENCHSTAT[@]}" before="$tmp/before.txt" after="$tmp/after.txt"
echo
echo "Paired: after/before per round (fastest of $COUNT passes each), median [p25, p75] over $ROUNDS rounds"
# Lines: round which name iterations ns/op "ns/op" …
awk '{ k = $3 SUBSEP $1 SUBSEP $2; if (!(k in ns) || $5 < ns[k]) ns[k] = $5; names[$3]; rounds[$1] }
	END { for (n in names) for (r in rounds) if (((n, r, "before") in ns) && ((n, r, "after") in ns)) print n, ns[n, r, "after"] / ns[n, r, "before"] }' "$tmp/paired.txt" |
	sort -k1,1 -k2,2g |
	awk '{ v[$1] = v[$1] " " $2; c[$1]++ }
	END { for (n in c) { k = split(substr(v[n], 2), q, " "); printf "%s  %.3fx [%.3f, %.3f]  n=%d\n", n, q[int((k + 1) / 2)], q[int((k + 3) / 4)], q[int((3 * k + 3) / 4)], k } }'
