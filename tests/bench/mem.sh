#!/bin/bash
# mem.sh [SESSIONS]: hotlined's peak RSS (VmHWM), idle with the shipped menus,
# and with SESSIONS (default 100,000) live sessions.
#
# Both runs use the shipped config/hotline.cfg (dummy modem, HTTP on, log
# level info) with its paths and port moved into a work folder.
#   idle:      start on an empty database, stay idle 5 s (the modem thread
#              polls the phone, the main thread runs its timers), read VmHWM.
#   sessions:  start on an empty database and create the sessions through the
#              daemon's own USSD path (wrk, ussd.lua "dial": every request a
#              new sessionId, each one stored by ussd_session_step in SQLite,
#              as an aggregator's calls would) until the sessions table holds
#              SESSIONS USSD sessions, all inside ussd.timeout (180 s), so all
#              are live at once; then 5 s of menu walks on top and 2 s idle
#              (the HTTP threads purge idle sessions every 60 s, the main thread
#              runs its timers). VmHWM is the peak over the whole run.
# Sessions live in the database, not in the daemon's memory: what this
# measures is that nothing in the daemon grows with them (SQLite's page cache
# is bounded per connection; no code loads all sessions).
#
# Prints "mem idle ..." and "mem sessions ..." (key=value).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

S=${1:-100000}

start() { # start DIR: hotlined under watch in the background; sets WATCH, PORT
	local w=$1
	mkdir -p "$w/var" "$w/phone"
	PORT=$(free_port)
	make_cfg "$w/hotline.cfg" "$w/var/hotline.db" "$w/phone" "$PORT"
	# shellcheck disable=SC2046
	"$BB/watch" --log "$w/hotlined.log" --ready " ready: " --until-file "$w/stop" --pidfile "$w/hotlined.pid" \
		--timeout 900 -- "$HOTLINE_BUILD/hotlined" -c "$w/hotline.cfg" $(root_args) >"$w/watch.txt" &
	WATCH=$!
	for _ in $(seq 1 500); do
		[ -s "$w/hotlined.pid" ] && return 0
		sleep 0.02
	done
	die "mem: hotlined did not start (log: $w/hotlined.log)"
}

# ---- idle
W=$(mktemp -d /tmp/bench-mem-XXXXXX)
start "$W/idle"
sleep 5
touch "$W/idle/stop"
wait $WATCH || true
I=$(cat "$W/idle/watch.txt")
echo "mem idle hwm_kb=$(echo "$I" | kv hwm_kb) rss_kb=$(echo "$I" | kv rss_kb) menu_nodes=$(sed -n 's/.* \([0-9]*\) menu nodes.*/\1/p' "$W/idle/hotlined.log" | head -1)"

# ---- SESSIONS live sessions
start "$W/s"
DB=$W/s/var/hotline.db
SECRET=$(sed -n 's/^ *secret = "\(.*\)";.*/\1/p' "$W/s/hotline.cfg")
t0=$(date +%s)
wrk -t2 -c64 -d900s --timeout 5s -s "$SRC/tests/bench/ussd.lua" "http://127.0.0.1:$PORT" -- \
	"/ussd/$SECRET" 64 $(((S + 1) / 2 + 64)) dial >"$W/s/wrk-create.txt" &
WRK=$!
n=0
while kill -0 $WRK 2>/dev/null; do
	sleep 1
	n=$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE channel = 'ussd'" 2>/dev/null || echo 0)
	[ "$n" -ge "$S" ] && break
done
kill -INT $WRK 2>/dev/null || true
wait $WRK || true
t_create=$(($(date +%s) - t0))
wrk -t2 -c64 -d5s --timeout 5s -s "$SRC/tests/bench/ussd.lua" "http://127.0.0.1:$PORT" -- "/ussd/$SECRET" \
	>"$W/s/wrk-walk.txt" || true
sleep 2
now=$(date +%s)
live=$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE channel = 'ussd' AND updated_at >= $now - 180")
all=$(sqlite3 "$DB" "SELECT count(*) FROM sessions")
touch "$W/s/stop"
wait $WATCH || true
X=$(cat "$W/s/watch.txt")
dbkb=$(du -k "$DB" | cut -f1)
walkb=$(du -k "$DB-wal" 2>/dev/null | cut -f1 || echo 0)
echo "mem sessions hwm_kb=$(echo "$X" | kv hwm_kb) rss_kb=$(echo "$X" | kv rss_kb) live_sessions=$live" \
	"sessions_rows=$all wanted=$S create_s=$t_create create_rps=$(tail -1 "$W/s/wrk-create.txt" | kv rps)" \
	"walk_rps=$(tail -1 "$W/s/wrk-walk.txt" | kv rps) db_kb=$dbkb wal_kb=${walkb:-0}"
if [ "$live" -ge "$S" ]; then
	if [ "${KEEP:-0}" = 1 ]; then echo "mem: work dir $W" >&2; else rm -rf "$W"; fi
	exit 0
fi
echo "mem: only $live live sessions; work dir kept: $W" >&2
exit 1
