#!/bin/sh
# run.sh SECONDS NAME...: run each libFuzzer harness build/fuzz/fuzz_NAME for
# SECONDS on its committed seeds (tests/fuzz/corpus/NAME, read only) and on
# the working corpus build/fuzz/corpus/NAME (what earlier runs found; new
# finds go there), then print executions and crashes per harness. A crash
# leaves its input in build/fuzz/crashes/NAME/: fix the bug, then commit the
# input to tests/fuzz/corpus/NAME/ so that `make check`
# (tests/unit/test_fuzz_corpus.c) runs it from then on.
# Exit 1 when any harness crashed.
set -u
secs=$1
shift
top=${HOTLINE_SRC:-.}
out=${HOTLINE_BUILD:-$top/build}/fuzz
# libFuzzer leaves with _Exit, past atexit: what a harness puts in TMPDIR stays in the build folder
export TMPDIR="$out/tmp"
mkdir -p "$TMPDIR"
rc=0
summary=""
for name in "$@"; do
	mkdir -p "$out/corpus/$name" "$out/crashes/$name"
	log="$out/$name.log"
	echo "fuzz: $name for $secs s ..."
	"$out/fuzz_$name" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/crashes/$name/" "$out/corpus/$name" "$top/tests/fuzz/corpus/$name" >"$log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	crashes=$(ls "$out/crashes/$name" | grep -c -E '^(crash|leak|timeout|oom|slow-unit)-')
	corpus=$(ls "$out/corpus/$name" | wc -l)
	if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
		rc=1
		grep -E 'ERROR: |broken promise|SUMMARY' "$log" | head -5 | sed "s/^/fuzz: $name: /"
	fi
	summary="$summary$(printf 'fuzz: %-10s %6s s %12s executions %4s crashes %6s in the working corpus' \
		"$name" "$secs" "${execs:-?}" "$crashes" "$corpus")
"
done
printf '\n%s' "$summary"
[ $rc -eq 0 ] && echo "fuzz: no crashes" || echo "fuzz: CRASHES: inputs in $out/crashes/"
exit $rc
