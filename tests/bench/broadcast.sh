#!/bin/bash
# broadcast.sh [N] [KILLS]: a broadcast to N recipients (10,000) on 4 dummy
# modems (issue 17), in two phases on one database.
#
# 1. Throughput: a roster of N 低保户 imported with hotlinectl, a broadcast
#    created by one staff member and approved by the supervisor while
#    hotlined runs, with broadcast.per_modem_per_minute = 0 (no rate: the
#    software's own ceiling) and no allowed hours. Measured: the roster's
#    import, the time to queue (create: every recipient chosen and stored,
#    plus approve), approve to the last send, sends per second, hotlined's
#    peak RSS (VmHWM, read before SIGTERM) and hotlinectl's (create's max RSS).
# 2. Exactly once: a second broadcast to the same N, hotlined SIGKILLed KILLS
#    times (10) while it sends, restarted each time, with HOTLINE_SENT_JOURNAL.
#    Counted: recipients without a sent message (gaps), recipients with more
#    than one message row (dup_rows), sends the network accepted twice
#    (air_dup: a kill between the modem's send and the commit of that fact;
#    each is marked uncertain, uncertain=).
#
# The config is the house's e2e shape (tests/harness/hl.c): synchronous =
# full (the default), 4 dummy modems, HTTP and the console off, log level info.
#
# Prints "broadcast queue ...", "broadcast send ...", "broadcast kills ...".
# Exit 1 on a gap or a duplicate row, or a journal that does not cover every
# recipient. KEEP=1 keeps the work folder.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${1:-10000}
KILLS=${2:-10}
CTL=$HOTLINE_BUILD/hotlinectl
HL=$HOTLINE_BUILD/hotlined
W=$(mktemp -d /tmp/bench-broadcast-XXXXXX)
PID=
cleanup() { [ -z "$PID" ] || { kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; } || true; }
trap cleanup EXIT

mkdir -p "$W/var"
for i in 0 1 2 3; do mkdir -p "$W/phone$i"; done
cat >"$W/hotline.cfg" <<EOF
database = { path = "$W/var/hotline.db"; };
menus = { dir = "$SRC/menus"; };
daemon = { allow_root = true; };
log = { level = "info"; };
http = { enabled = false; };
console = { enabled = false; };
cases = { quiet_hours = ""; };
broadcast = { per_modem_per_minute = 0; allowed_hours = ""; };
office = { name = "崆峒区民政局"; address = "崆峒区民政局社会救助股";
           hours = "周一至周五 8:30-17:30"; phone = "0933-0000000"; };
staff = ( { name = "李秀英"; phone = "13900000002"; areas = ["白水镇"]; duty = true; },
          { name = "张主任"; phone = "13900000003"; role = "supervisor"; } );
modems = ( { name = "m0"; model = "dummy"; connection = "none"; device = "$W/phone0"; },
           { name = "m1"; model = "dummy"; connection = "none"; device = "$W/phone1"; },
           { name = "m2"; model = "dummy"; connection = "none"; device = "$W/phone2"; },
           { name = "m3"; model = "dummy"; connection = "none"; device = "$W/phone3"; } );
EOF

ms() { date +%s%3N; }
q() { sqlite3 -cmd '.timeout 10000' "$W/var/hotline.db" "$1"; }
ctl() { "$CTL" -c "$W/hotline.cfg" "$@"; }

# start RUN: hotlined in the background until its RUN-th " ready: " line
start() {
	HOTLINE_SENT_JOURNAL=${JOURNAL:-} "$HL" -c "$W/hotline.cfg" >>"$W/hotlined.log" 2>&1 &
	PID=$!
	local t=0
	until [ "$(grep -c ' ready: ' "$W/hotlined.log")" -ge "$1" ]; do
		kill -0 "$PID" 2>/dev/null || { tail -20 "$W/hotlined.log" >&2; die "hotlined exited at start"; }
		sleep 0.01
		t=$((t + 1))
		[ $t -lt 3000 ] || die "hotlined not ready after 30 s"
	done
}
stop() { # stop SIGNAL
	kill "-$1" "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
}
# wait_for SQL VALUE TIMEOUT_S: until the query answers at least VALUE
wait_for() {
	local deadline=$(($(date +%s) + $3)) v
	while :; do
		v=$(q "$1")
		[ "${v:-0}" -lt "$2" ] || return 0
		[ "$(date +%s)" -lt "$deadline" ] || { echo "broadcast: timeout: $1 = $v, want $2" >&2; return 1; }
		sleep 0.05
	done
}

# the roster: N 低保户 in 白水镇, numbers 137NNNNNNNN
awk -v n="$N" 'BEGIN { print "姓名,手机号,乡镇,村,类别"
	for (i = 1; i <= n; i++) printf "村民%d,137%08d,白水镇,寨子街村,低保户\n", i, i }' >"$W/roster.csv"
ready=1
start $ready
t0=$(ms)
ctl contacts import "$W/roster.csv" >"$W/import.txt"
t1=$(ms)
# create: every recipient chosen and stored (its max RSS from time(1))
/usr/bin/time -f '%M' -o "$W/create.rss" "$CTL" -c "$W/hotline.cfg" broadcast create --by 李秀英 --to group:低保户 \
	--text '{name}您好：今年低保标准提高了，详情请到村委会咨询。' >"$W/create.txt"
t2=$(ms)
id=$(sed -n 's/^群发 \([0-9]*\) 已建好.*/\1/p' "$W/create.txt" | head -1)
[ -n "$id" ] || { cat "$W/create.txt" >&2; die "no broadcast id in hotlinectl's answer"; }
ctl broadcast approve "$id" --by 张主任 >/dev/null
t3=$(ms)
wait_for "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND status = 'sent'" 1 120
t4=$(ms)
wait_for "SELECT count(*) FROM broadcasts WHERE id = $id AND status = 'done'" 1 $((60 + N / 5))
t5=$(ms)
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status")
stop TERM
sent=$(q "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND status = 'sent'")
modems=$(q "SELECT count(DISTINCT modem) FROM messages WHERE kind = 'broadcast'")
recips=$(q "SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $id")
echo "broadcast queue N=$N recipients=$recips import_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')" \
	"create_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", (b - a) / 1000 }')" \
	"queue_s=$(awk -v a="$t1" -v b="$t3" 'BEGIN { printf "%.2f", (b - a) / 1000 }') ctl_rss_kb=$(cat "$W/create.rss")"
echo "broadcast send N=$N sent=$sent modems=$modems rate=0 first_ms=$((t4 - t3))" \
	"send_s=$(awk -v a="$t3" -v b="$t5" 'BEGIN { printf "%.1f", (b - a) / 1000 }')" \
	"msgs_per_s=$(awk -v a="$t3" -v b="$t5" -v n="$sent" 'BEGIN { printf "%.1f", n / ((b - a) / 1000) }') hwm_kb=$hwm"

# 2: the same N again, killed while it sends
export JOURNAL=$W/sent.journal
: >"$JOURNAL"
ready=$((ready + 1))
start $ready
ctl broadcast create --by 李秀英 --to group:低保户 --text '通知：低保年审下周开始，请带身份证到村委会。' >"$W/create2.txt"
id2=$(sed -n 's/^群发 \([0-9]*\) 已建好.*/\1/p' "$W/create2.txt" | head -1)
ctl broadcast approve "$id2" --by 张主任 >/dev/null
SENT2="SELECT count(*) FROM messages WHERE id IN (SELECT message_id FROM broadcast_recipients WHERE broadcast_id = $id2) AND status = 'sent'"
sent=0
for k in $(seq 1 "$KILLS"); do
	want=$((sent + N / (KILLS + 2)))
	[ "$want" -lt "$N" ] || break
	wait_for "$SENT2" "$want" $((60 + N / 5))
	stop KILL
	sent=$(q "$SENT2")
	echo "kill $k at $sent sent" >>"$W/kills"
	ready=$((ready + 1))
	start $ready
done
wait_for "SELECT count(*) FROM broadcasts WHERE id = $id2 AND status = 'done'" 1 $((60 + N / 5))
stop TERM
R="broadcast_recipients WHERE broadcast_id = $id2"
gaps=$(q "SELECT count(*) FROM $R AND (message_id IS NULL OR message_id NOT IN
	(SELECT id FROM messages WHERE status = 'sent'))")
dup_rows=$(q "SELECT (SELECT count(*) FROM messages WHERE kind = 'broadcast' AND id IN (SELECT message_id FROM $R))
	- (SELECT count(DISTINCT phone) FROM messages WHERE kind = 'broadcast' AND id IN (SELECT message_id FROM $R))")
# rows of this broadcast's phones that belong to no recipient (a message queued twice, one orphaned)
orphans=$(q "SELECT count(*) FROM messages WHERE kind = 'broadcast' AND id NOT IN (SELECT message_id FROM broadcast_recipients
	WHERE message_id IS NOT NULL)")
uncertain=$(q "SELECT coalesce(sum(uncertain), 0) FROM messages WHERE id IN (SELECT message_id FROM $R)")
lines=$(wc -l <"$JOURNAL")
uniq_ids=$(sort -u "$JOURNAL" | wc -l)
air_dup=$((lines - uniq_ids))
kills=$(wc -l <"$W/kills")
echo "broadcast kills N=$N kills=$kills gaps=$gaps dup_rows=$dup_rows orphans=$orphans journal=$lines" \
	"air_dup=$air_dup uncertain=$uncertain"

if [ "$gaps" = 0 ] && [ "$dup_rows" = 0 ] && [ "$orphans" = 0 ] && [ "$uniq_ids" = "$N" ] && [ "$air_dup" -le "$uncertain" ]; then
	if [ "${KEEP:-0}" = 1 ]; then echo "broadcast: work dir $W" >&2; else rm -rf "$W"; fi
	exit 0
fi
echo "broadcast: problems; work dir kept: $W" >&2
exit 1
