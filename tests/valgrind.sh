#!/bin/sh
# valgrind.sh TEST...: run end-to-end test binaries with every hotlined they
# start under valgrind's memcheck (through the harness's HL_WRAP), then read
# the memcheck logs: each hotlined that exited must show 0 errors and 0 bytes
# definitely lost. A hotlined that a test killed with SIGKILL leaves no
# summary and is counted apart. Exit 1 on any error, leak or failed test.
set -u
top=${HOTLINE_SRC:-.}
logs=${HOTLINE_BUILD:-$top/build}/valgrind
rm -rf "$logs"
mkdir -p "$logs"
rc=0
export HL_WRAP="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no --log-file=$logs/hotlined-%p.log"
for t in "$@"; do
	echo "valgrind: $(basename "$t") with hotlined under memcheck"
	"$t" || rc=1
done
runs=0 clean=0 killed=0 errors=0 lost=0
for f in "$logs"/hotlined-*.log; do
	[ -e "$f" ] || continue
	runs=$((runs + 1))
	if ! grep -q 'ERROR SUMMARY:' "$f"; then
		killed=$((killed + 1))
		continue
	fi
	e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d , | tail -n 1)
	l=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
	errors=$((errors + ${e:-0}))
	lost=$((lost + ${l:-0}))
	if [ "${e:-0}" -ne 0 ] || [ "${l:-0}" -ne 0 ]; then
		rc=1
		echo "valgrind: $f: ${e:-0} errors, ${l:-0} bytes definitely lost"
		sed -n '/^==[0-9]*== [A-Z].*/,+14p' "$f" | head -60
	else
		clean=$((clean + 1))
	fi
done
echo "valgrind: hotlined runs: $runs; checked to the end: $((runs - killed)) ($clean clean); killed by a test (SIGKILL, no summary): $killed"
echo "valgrind: memcheck errors: $errors; bytes definitely lost: $lost"
[ "$runs" -gt 0 ] || { echo "valgrind: no hotlined ran under valgrind"; rc=1; }
exit $rc
