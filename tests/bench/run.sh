#!/bin/bash
# run.sh: every benchmark of issue 7, BENCH_RUNS times (default 3), then one
# table of min / median / max (table.py). `make bench` builds what this needs
# and runs it; it is not part of `make check`.
#
#   BENCH_RUNS=3                              repeats
#   BENCH_ONLY="engine store drain ussd mem startup kannel console at broadcast"   a subset
#   BENCH_SECONDS=2                           seconds per engine/store measurement
#   BENCH_USSD_SECONDS=10                     seconds per wrk measurement
#   BENCH_N=1000 BENCH_SEED=42                the drain's inbox
#   BENCH_SESSIONS=100000                     mem.sh's live sessions
#   BENCH_KANNEL_N=500                        kannel.sh's messages per county
#   BENCH_AT_N=20 BENCH_AT_IDLE=60            at.py: messages per latency run, idle seconds
#   BENCH_BCAST_N=10000 BENCH_BCAST_KILLS=10  broadcast.sh: recipients, SIGKILLs
#
# Every line the programs print is kept, prefixed with "run=N", in
# build/bench/results-<time>.txt (the table is built from it).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_ONLY:-engine store drain ussd mem startup kannel console at broadcast}
SECS=${BENCH_SECONDS:-2}
USECS=${BENCH_USSD_SECONDS:-10}
N=${BENCH_N:-1000}
SEED=${BENCH_SEED:-42}
SESSIONS=${BENCH_SESSIONS:-100000}
KANNEL_N=${BENCH_KANNEL_N:-500}
CORPUS=("$SRC/tests/corpus/villager-corpus.tsv" "$SHARED/samples/villager-messages.tsv")
CFG=$SRC/config/hotline.cfg

for b in bench_engine bench_store bench_console ussd_bare watch; do
	[ -x "$BB/$b" ] || die "$BB/$b is missing: run \`make bench\` (or \`make bench-build\`)"
done
for t in wrk gammu-smsd sqlite3 python3 cc; do
	command -v "$t" >/dev/null || die "missing $t (scripts/bootstrap installs it)"
done
mkdir -p "$BB"
OUT=$BB/results-$(date +%Y%m%d-%H%M%S).txt
: >"$OUT"
fail=0

wants() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

# run_one RUN NAME COMMAND...: keep its key=value lines, show progress
run_one() {
	local run=$1 name=$2
	shift 2
	local t0 out rc
	t0=$(date +%s)
	out=$("$@" 2>"$BB/last-$name.err")
	rc=$?
	echo "$out" | grep -v '^$' | sed "s/^/run=$run /" >>"$OUT"
	echo "$out" | sed "s/^/  /" >&2
	if [ $rc -ne 0 ]; then
		echo "bench: $name (run $run) failed (exit $rc):" >&2
		sed 's/^/    /' "$BB/last-$name.err" >&2
		fail=1
	fi
	echo "  ($name: $(($(date +%s) - t0)) s)" >&2
}

{
	echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
		"$(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) memory," \
		"$(df -T "$BB" | awk 'NR == 2 { print $2 }') on $(df "$BB" | awk 'NR == 2 { print $1 }')," \
		"load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "versions: $(gammu-smsd --version 2>/dev/null | head -1), SQLite $(sqlite3 --version | cut -d' ' -f1)," \
		"libmicrohttpd $(pkg-config --modversion libmicrohttpd), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)," \
		"git $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null)$(git -C "$SRC" diff --quiet 2>/dev/null || echo +changes)"
} | tee -a "$OUT" >&2

for run in $(seq 1 "$RUNS"); do
	echo "== run $run of $RUNS" >&2
	if wants engine; then
		run_one "$run" engine "$BB/bench_engine" -c "$CFG" -t "$SECS" "${CORPUS[@]}"
	fi
	if wants store; then
		run_one "$run" store-full "$BB/bench_store" -c "$CFG" -s full -t "$SECS" "${CORPUS[@]}"
		run_one "$run" store-normal "$BB/bench_store" -c "$CFG" -s normal -t "$SECS" "${CORPUS[@]}"
		run_one "$run" store-batch "$BB/bench_store" -c "$CFG" -s full -b 64 -t "$SECS" "${CORPUS[@]}"
	fi
	if wants drain; then
		run_one "$run" drain "$SRC/tests/bench/drain.sh" "$N" "$SEED"
	fi
	if wants ussd; then
		run_one "$run" ussd "$SRC/tests/bench/ussd.sh" "$USECS"
	fi
	if wants mem; then
		run_one "$run" mem "$SRC/tests/bench/mem.sh" "$SESSIONS"
	fi
	if wants startup; then
		run_one "$run" startup "$SRC/tests/bench/startup.sh"
	fi
	if wants kannel; then
		run_one "$run" kannel "$SRC/tests/bench/kannel.sh" "$KANNEL_N"
	fi
	if wants console; then
		run_one "$run" console "$BB/bench_console" -c "$CFG"
	fi
	if wants at; then
		run_one "$run" at python3 "$SRC/tests/bench/at.py" "$HOTLINE_BUILD" "$SRC" "${BENCH_AT_N:-20}" "${BENCH_AT_IDLE:-60}"
	fi
	if wants broadcast; then
		run_one "$run" broadcast "$SRC/tests/bench/broadcast.sh" "${BENCH_BCAST_N:-10000}" "${BENCH_BCAST_KILLS:-10}"
	fi
done

echo >&2
echo "results: $OUT" >&2
echo
head -2 "$OUT"
echo
python3 "$SRC/tests/bench/table.py" "$OUT"
[ $fail -eq 0 ] || echo "bench: some runs failed; their figures are missing from the table (see above)" >&2
exit $fail
