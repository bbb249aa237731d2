#!/bin/bash
# stress.sh: nothing is lost when hotlined is killed at any moment.
#
# gen-inbox (../shared/bench/gen-inbox.c, beside the repository) fills the
# dummy phone's inbox with 2,000 realistic inbound SMS (single and multipart,
# Chinese and ASCII, parts interleaved and reversed) as Gammu smsbackup
# files. hotlined works through them with HOTLINE_SENT_JOURNAL set; the
# script SIGKILLs it at random moments while it reads and sends (25 by
# default), restarts it each time, lets a last run finish and stop on
# SIGTERM, then stress-check (tests/tools) compares the database and the
# journal of accepted sends with what the phone was given and prints the
# figures. Exit status 0 when nothing was lost, stored twice or mislinked.
#
# Environment: STRESS_N (2000), STRESS_KILLS (25), STRESS_SEED (the time),
# STRESS_MIN_MS / STRESS_MAX_MS / STRESS_FIRST_MS (5 / 400 / 100: bounds of
# how long each run lives after it says it is ready), STRESS_KEEP=1 keeps the
# work folder (kept anyway on a failure). Needs build/hotlined and
# build/tools/stress-check (make), cc, sqlite3.
set -u

SRC=${HOTLINE_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${HOTLINE_BUILD:-$SRC/build}
N=${STRESS_N:-2000}
KILLS=${STRESS_KILLS:-25}
SEED=${STRESS_SEED:-$(date +%s)}
MIN_MS=${STRESS_MIN_MS:-5}
MAX_MS=${STRESS_MAX_MS:-400}
FIRST_MS=${STRESS_FIRST_MS:-100}
GEN_SRC=${GEN_INBOX_SRC:-$SRC/../shared/bench/gen-inbox.c}

for f in "$BUILD/hotlined" "$BUILD/tools/stress-check" "$GEN_SRC"; do
	[ -e "$f" ] || { echo "stress: missing $f (make; ../shared/bench beside the repository)" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "stress: needs the sqlite3 command" >&2; exit 2; }

W=$(mktemp -d /tmp/hotline-stress-XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	if [ "${STRESS_KEEP:-0}" = 1 ] || [ "${failed:-1}" != 0 ]; then
		echo "stress: work folder kept: $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 3' INT TERM

echo "stress: $N messages, $KILLS kills, seed $SEED, work folder $W"
mkdir -p "$W/var"
cc -O2 -o "$W/gen-inbox" "$GEN_SRC" || exit 2
"$W/gen-inbox" "$W/phone" "$N" "$SEED" >"$W/gen.txt" || exit 2
sed 's/^/stress: /' "$W/gen.txt"
mv "$W/phone/expected.tsv" "$W/expected.tsv"
: >"$W/journal"
: >"$W/kills"

# The production defaults where they matter (synchronous = full), no flood or
# loop limits (every message must be answered), fast polling.
cat >"$W/hotline.cfg" <<EOF
database = { path = "var/hotline.db"; };
menus = { dir = "$SRC/menus"; };
daemon = { allow_root = true; };
log = { level = "debug"; };
limits = { poll_interval_ms = 50; retry_initial = 1; retry_max = 2;
           replies_per_minute = 0; replies_per_day = 0; repeat_window = 0; };
http = { enabled = false; };
console = { enabled = false; };
office = { name = "崆峒区民政局"; address = "崆峒区民政局社会救助股";
           hours = "周一至周五 8:30-17:30"; phone = "0933-0000000"; };
cases = { quiet_hours = ""; };
staff = ( { name = "王建国"; phone = "13900000001"; areas = ["崆峒镇"]; duty = true; },
          { name = "张主任"; phone = "13900000003"; role = "supervisor"; } );
modems = ( { name = "m0"; model = "dummy"; connection = "none"; device = "phone"; } );
EOF

start() {
	echo "==== run $1 ====" >>"$W/hotlined.log"
	HOTLINE_SENT_JOURNAL="$W/journal" "$BUILD/hotlined" -c "$W/hotline.cfg" >>"$W/hotlined.log" 2>&1 &
	PID=$!
	local t=0
	until [ "$(grep -c ' ready: ' "$W/hotlined.log")" -ge "$1" ]; do
		kill -0 "$PID" 2>/dev/null || { echo "stress: hotlined exited at start (run $1)" >&2; tail -20 "$W/hotlined.log" >&2; exit 1; }
		sleep 0.01
		t=$((t + 1))
		[ $t -lt 3000 ] || { echo "stress: hotlined not ready after 30 s" >&2; exit 1; }
	done
}

q() { sqlite3 -cmd '.timeout 10000' "$W/var/hotline.db" "$1"; }
inbox_left() { ls "$W/phone/sms/1" | grep -c '^[0-9]'; }

# Work done so far: inbound messages stored plus replies sent (about 2N in all).
progress() { q "SELECT (SELECT count(*) FROM messages WHERE direction = 'in')
	+ (SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent')"; }

# The next run's life: random (reproducible from the seed) up to the time the
# work left would take at the last run's pace, shared among the kills left
# (the first run: up to STRESS_FIRST_MS), so that the kills fall while the
# daemon works, from the first messages read to the last replies sent, on a
# fast machine or a slow one.
next_delay() { # next_delay RUN DONE_BEFORE DONE_AFTER LAST_MS
	awk -v s="$SEED" -v run="$1" -v b="$2" -v a="$3" -v ms="$4" -v total=$((2 * N)) \
		-v left=$((KILLS - $1 + 1)) -v lo="$MIN_MS" -v hi="$MAX_MS" -v first="$FIRST_MS" 'BEGIN {
		srand(s * 1000 + run)
		if (run == 1) hi = first
		if (ms > 0 && a > b) {
			rest = (total - a) / ((a - b) / ms)
			hi2 = rest / left
			if (hi2 < hi) hi = hi2
		}
		if (hi < lo + 5) hi = lo + 5
		printf "%d\n", lo + int(rand() * (hi - lo + 1)) }'
}

# What the daemon was doing when it died: its last receive or send line in
# this run's log and how long before the kill (ms since midnight, both clocks
# the bureau's: the log's times are in the config's timezone, Asia/Shanghai). "receiving"/"sending" when that line came less than BUSY_MS before.
BUSY_MS=50
activity() { # activity KILL_HH:MM:SS.mmm
	awk -v k="$1" -v busy="$BUSY_MS" '
		function ms(t,  a) { split(t, a, ":"); return ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 }
		/^==== run / { last = ""; what = "" }
		/ modem: m0: (message [0-9]+ from|part [0-9]+ of [0-9]+ stored)/ { last = $1; what = "receiving" }
		/ modem: m0: sent [0-9]+ to / { last = $1; what = "sending" }
		END {
			if (last == "") { print "starting -"; exit }
			sub(/^.*T/, "", last)
			d = ms(k) - ms(last)
			if (d < -1000) d += 86400000 # midnight
			if (d < 0) d = 0             # written while the kill was on its way
			print (d < busy ? what : "idle"), d
		}' "$W/hotlined.log"
}

run=0
recv_kills=0
send_kills=0
claim_kills=0
window_kills=0
t0=$(date +%s.%N)
before=0
after=0
d=0
while [ "$run" -lt "$KILLS" ]; do
	run=$((run + 1))
	d=$(next_delay "$run" "$before" "$after" "$d")
	before=$after
	start "$run"
	sleep "$(awk -v ms="$d" 'BEGIN { printf "%.3f", ms / 1000 }')"
	at=$(TZ=Asia/Shanghai date +%H:%M:%S.%3N)
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	PID=
	read -r doing ago <<<"$(activity "$at")"
	waiting=$(inbox_left)
	claimed=$(q "SELECT count(*) FROM outbox WHERE sending = 1")
	unrec=$(q "SELECT count(*) FROM messages WHERE direction = 'out' AND status <> 'sent'
		AND id IN ($(sort -u "$W/journal" | paste -sd, - | sed 's/^$/0/'))")
	maxpart=$(q "SELECT coalesce(max(id), 0) FROM inbox_parts")
	after=$(progress)
	echo "$maxpart" >>"$W/kills"
	[ "$doing" = receiving ] && recv_kills=$((recv_kills + 1))
	[ "$doing" = sending ] && send_kills=$((send_kills + 1))
	[ "$claimed" -gt 0 ] && claim_kills=$((claim_kills + 1))
	[ "$unrec" -gt 0 ] && window_kills=$((window_kills + 1))
	printf 'stress: kill %2d after %3d ms: %-9s (last receive/send line %s ms before), %4d parts in the phone, %2d replies claimed, %d sent not recorded\n' \
		"$run" "$d" "$doing" "$ago" "$waiting" "$claimed" "$unrec"
done

# the last run: until the phone is empty, everything is linked and the outbox is drained
run=$((run + 1))
start "$run"
deadline=$(($(date +%s) + 300))
while :; do
	if [ "$(inbox_left)" -eq 0 ] &&
		[ "$(q "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM inbox_parts WHERE message_id IS NULL)")" -eq 0 ] &&
		[ "$(q "SELECT count(*) FROM messages WHERE direction = 'in'")" -ge "$N" ]; then
		break
	fi
	if [ "$(date +%s)" -gt "$deadline" ]; then
		echo "stress: the last run did not finish in 300 s" >&2
		break
	fi
	sleep 0.1
done
kill -TERM "$PID"
wait "$PID"
status=$?
PID=
t1=$(date +%s.%N)
[ "$status" -eq 0 ] || echo "stress: hotlined exited $status on SIGTERM" >&2

reread=$(grep -c 'was stored before (read again after a restart)' "$W/hotlined.log")
recovered=$(grep -o '[0-9]* message(s) were being sent when the daemon stopped' "$W/hotlined.log" | awk '{ s += $1 } END { print s + 0 }')
echo "stress: $KILLS kills in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: $recv_kills while receiving, $send_kills while sending (a line < $BUSY_MS ms before the kill), $claim_kills with replies claimed and not recorded, $window_kills between a send and its record"
[ $((recv_kills + send_kills)) -ge 20 ] ||
	echo "stress: WARNING: only $((recv_kills + send_kills)) kills fell while hotlined was receiving or sending (want 20+)"
echo "stress: parts read again after a kill (stored before, skipped): $reread; claimed replies requeued at start: $recovered"
"$BUILD/tools/stress-check" "$W/var/hotline.db" "$W/expected.tsv" "$W/journal" "$W/kills"
failed=$?
[ "$status" -eq 0 ] || failed=1
errors=$(grep -c ' error ' "$W/hotlined.log")
echo "stress: error lines in the log: $errors"
exit $failed
