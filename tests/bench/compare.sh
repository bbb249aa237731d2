#!/bin/bash
# compare.sh BASE: `make bench` for BASE (a git revision) and for this checkout,
# run by run in turn on the same machine, then one table of both medians.
# A refactor's "no regression" is read from this table (BENCHMARKS.md).
#
#   make bench-compare BASE=54e2f0e BENCH_RUNS=3 BENCH_ONLY="engine store drain ussd mem startup"
#
# BASE is checked out (detached) in build/bench-base and built there with its
# own Makefile; each side runs its own tests/bench/run.sh with BENCH_RUNS=1 per
# round, so a slow minute of the machine falls on both sides alike.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

BASE=${1:?usage: compare.sh BASE-REVISION}
RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_ONLY:-engine store drain ussd mem startup}
WT=$HOTLINE_BUILD/bench-base

rev=$(git -C "$SRC" rev-parse --verify "$BASE^{commit}") || die "no revision $BASE"
if [ -d "$WT" ]; then
	git -C "$WT" checkout -q --detach "$rev" || die "cannot check out $BASE in $WT"
else
	git -C "$SRC" worktree add -q --detach "$WT" "$rev" || die "cannot add a worktree for $BASE"
fi
# the base's scripts find ../shared beside their checkout, as this one's do
[ -e "$HOTLINE_BUILD/shared" ] || ln -s "$SHARED" "$HOTLINE_BUILD/shared"
make -C "$WT" --no-print-directory -j"$(nproc)" bench-build >"$HOTLINE_BUILD/bench-base.log" 2>&1 ||
	die "$BASE does not build (see $HOTLINE_BUILD/bench-base.log)"

OUT=$HOTLINE_BUILD/bench/compare-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
: >"$OUT/base.txt"
: >"$OUT/head.txt"
fail=0
for run in $(seq 1 "$RUNS"); do
	for side in base head; do
		if [ $side = base ]; then dir=$WT; else dir=$SRC; fi
		echo "== round $run of $RUNS: $side" >&2
		BENCH_RUNS=1 BENCH_ONLY=$ONLY HOTLINE_BUILD=$dir/build "$dir/tests/bench/run.sh" >/dev/null || fail=1
		# the newest results file of that side, its lines renumbered to this round
		last=$(ls -t "$dir"/build/bench/results-*.txt | head -1)
		sed -n "s/^run=1 /run=$run /p" "$last" >>"$OUT/$side.txt"
	done
done
echo
echo "base $(git -C "$SRC" rev-parse --short "$rev") against head $(git -C "$SRC" rev-parse --short HEAD)$(git -C "$SRC" diff --quiet || echo +changes), $RUNS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 "$SRC/tests/bench/table.py" --compare "$OUT/base.txt" "$OUT/head.txt"
exit $fail
