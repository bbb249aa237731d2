#!/bin/bash
# ussd.sh [SECONDS]: USSD over HTTP with wrk, the hotline against a bare
# libmicrohttpd responder (ussd_bare: same daemon options, a fixed "CON ..."
# answer), on this machine in the same run: 2 wrk threads, 64 connections,
# SECONDS (default 10) each after a 1 s warm-up, walking the menus with
# distinct sessions (ussd.lua). hotlined runs the shipped config/hotline.cfg
# (synchronous = full, http.threads = 2, log level info, ussd.secret) with
# its paths and port moved into a work folder, on an empty database.
#
# Then, for the record, hotlined again for 5 s at 2 connections (light load).
# Prints "ussd bare ...", "ussd hotline ...", "ussd hotline-c2 ...",
# "ussd ratio=..." (key=value).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

D=${1:-10}
W=$(mktemp -d /tmp/bench-ussd-XXXXXX)
mkdir -p "$W/var" "$W/phone"
PH=$(free_port)
PB=$(free_port)
make_cfg "$W/hotline.cfg" "$W/var/hotline.db" "$W/phone" "$PH"
SECRET=$(sed -n 's/^ *secret = "\(.*\)";.*/\1/p' "$W/hotline.cfg")

# shellcheck disable=SC2046
"$BB/watch" --log "$W/hotlined.log" --ready " ready: " --http "$PH" --until-file "$W/stop" \
	--pidfile "$W/hotlined.pid" --timeout 600 -- "$HOTLINE_BUILD/hotlined" -c "$W/hotline.cfg" $(root_args) \
	>"$W/watch.txt" &
WATCH=$!
"$BB/ussd_bare" "$PB" 2 2>"$W/bare.log" &
BARE=$!
trap 'touch "$W/stop"; kill $BARE 2>/dev/null || true' EXIT
for _ in $(seq 1 500); do
	[ -s "$W/hotlined.pid" ] && grep -q ready "$W/bare.log" 2>/dev/null && break
	sleep 0.02
done
[ -s "$W/hotlined.pid" ] || die "ussd: hotlined did not start (log: $W/hotlined.log)"

run_wrk() { # run_wrk PORT SECONDS [CONNECTIONS]
	wrk -t2 -c"${3:-64}" -d"$2"s --timeout 5s -s "$SRC/tests/bench/ussd.lua" "http://127.0.0.1:$1" -- "/ussd/$SECRET" |
		tail -1
}
run_wrk "$PB" 1 >/dev/null
B=$(run_wrk "$PB" "$D")
run_wrk "$PH" 1 >/dev/null
H=$(run_wrk "$PH" "$D")
# light load, for the record: 2 connections (one per wrk thread)
L=$(run_wrk "$PH" 5 2)
touch "$W/stop"
wait $WATCH || true
kill $BARE 2>/dev/null || true
wait $BARE 2>/dev/null || true
trap - EXIT

echo "ussd bare ${B#wrk }"
echo "ussd hotline ${H#wrk } hwm_kb=$(kv hwm_kb <"$W/watch.txt") sync=full http_threads=2"
ratio=$(awk -v h="$(echo "$H" | kv rps)" -v b="$(echo "$B" | kv rps)" 'BEGIN { if (b > 0) printf "%.3f", h / b; else print "?" }')
echo "ussd hotline-c2 ${L#wrk } connections=2"
echo "ussd ratio=$ratio"
if [ "$(echo "$H" | kv bad)" = 0 ] && [ "$(echo "$H" | kv errors)" = 0 ] && [ "$ratio" != "?" ]; then
	if [ "${KEEP:-0}" = 1 ]; then echo "ussd: work dir $W" >&2; else rm -rf "$W"; fi
	exit 0
fi
echo "ussd: problems; work dir kept: $W" >&2
exit 1
