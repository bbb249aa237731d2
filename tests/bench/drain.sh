#!/bin/bash
# drain.sh [N] [SEED]: the dummy-modem drain, hotlined against gammu-smsd in
# the same run, on the same inbox (../shared/bench/gen-inbox.c, N messages,
# SEED): time from the daemon's start until every message is answered, the
# daemon's peak RSS, lost and duplicated messages on both sides.
#
# hotlined runs with the shipped config/hotline.cfg (synchronous = full,
# poll_interval_ms = 1000, HTTP on, log level info) with its paths moved into
# a work folder and the flood and loop limits off (limits.replies_per_minute,
# replies_per_day, repeat_window = 0): the inbox has ~5 messages per sender,
# often the same keyword twice, and the peer's hook answers every one, so
# both daemons are asked to answer all N. Done when the database holds N
# sent replies (read once HOTLINE_SENT_JOURNAL has N lines).
# gammu-smsd runs through ../shared/bench/peer-smsd/run.sh (files backend,
# tuned profile: its fastest), which checks its own run.
#
# Prints three lines of key=value: "drain hotlined ...", "drain gammu-smsd
# ...", "drain ratio=...". Exit 1 when either side lost or duplicated.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${1:-1000}
SEED=${2:-42}
PEER=$SHARED/bench/peer-smsd
[ -x "$PEER/run.sh" ] || die "no peer harness at $PEER"
mkdir -p "$BB"
cc -O2 -std=c99 -Wall -o "$BB/gen-inbox" "$SHARED/bench/gen-inbox.c"

W=$(mktemp -d /tmp/bench-drain-XXXXXX)
"$BB/gen-inbox" "$W/phone" "$N" "$SEED" >"$W/gen.txt"
mkdir -p "$W/var"
make_cfg "$W/hotline.cfg" "$W/var/hotline.db" "$W/phone" "$(free_port)" \
	'limits = { replies_per_minute = 0; replies_per_day = 0; repeat_window = 0; };'

# shellcheck disable=SC2046
"$BB/watch" --log "$W/hotlined.log" --ready " ready: " --journal "$W/sent.journal" \
	--db "$W/var/hotline.db" --want "$N" --timeout $((120 + 2 * N)) -- \
	"$HOTLINE_BUILD/hotlined" -c "$W/hotline.cfg" $(root_args) >"$W/watch.txt" || true
H=$(cat "$W/watch.txt")

# what was stored and what was sent, for the peer's checker
sqlite3 -separator $'\t' "$W/var/hotline.db" \
	"SELECT phone, text FROM messages WHERE channel = 'sms' AND direction = 'in'" >"$W/received.tsv"
sqlite3 -separator $'\t' "$W/var/hotline.db" \
	"SELECT phone, parts, replace(replace(text, char(10), ' '), char(9), ' ') FROM messages
	 WHERE channel = 'sms' AND direction = 'out' AND kind = 'reply' AND status = 'sent'" >"$W/replies.tsv"
python3 "$PEER/check.py" tsv "$W/phone" "$W/received.tsv" "$W/replies.tsv" >"$W/check.txt" || true
C=$(cat "$W/check.txt")
others=$(sqlite3 "$W/var/hotline.db" "SELECT count(*) FROM messages WHERE direction = 'out' AND kind <> 'reply'")
h_wall=$(echo "$H" | kv done_s)
h_hwm=$(echo "$H" | kv hwm_kb)
h_lost=$(echo "$C" | kv lost)
h_dup=$(echo "$C" | kv dup)
echo "drain hotlined N=$N seed=$SEED wall_s=$h_wall hwm_kb=$h_hwm cpu_s=$(echo "$H" | kv cpu_s)" \
	"ready_ms=$(echo "$H" | kv ready_ms) lost=$h_lost dup=$h_dup stored=$(echo "$C" | kv stored)" \
	"store_lost=$(echo "$C" | kv store_lost) store_dup=$(echo "$C" | kv store_dup) store_bad=$(echo "$C" | kv store_bad)" \
	"replies=$(echo "$C" | kv replies) reply_parts=$(echo "$C" | kv reply_parts)" \
	"left_in_phone=$(echo "$C" | kv left_in_phone) other_sms_sent=$others sync=full"

# the peer, on the same inbox (run.sh generates it again from N and SEED: byte-identical)
P=$(cd "$PEER" && env -u BUILD SEED="$SEED" PROFILE=tuned ./run.sh "$N" files 2>"$W/peer.err" | tail -1) || true
echo "$P" >"$W/peer.txt"
p_wall=$(echo "$P" | sed -n 's/.* wall=\([0-9.]*\)s .*/\1/p')
p_hwm=$(echo "$P" | sed -n 's/.*smsd_alone: cpu=[0-9.]*s rss=\([0-9]*\)KB.*/\1/p')
p_lost=$(echo "$P" | kv lost)
p_dup=$(echo "$P" | kv dup)
echo "drain gammu-smsd N=$N seed=$SEED wall_s=${p_wall:-?} hwm_kb=${p_hwm:-?} lost=$p_lost dup=$p_dup" \
	"mislinked=$(echo "$P" | kv mislinked) profile=tuned backend=files"
ratio=$(awk -v p="${p_wall:-0}" -v h="${h_wall:--1}" 'BEGIN { if (p > 0 && h > 0) printf "%.1f", p / h; else print "?" }')
echo "drain ratio=$ratio"

if [ "$h_lost" = 0 ] && [ "$h_dup" = 0 ] && [ "$p_lost" = 0 ] && [ "$p_dup" = 0 ] && [ "$ratio" != "?" ]; then
	if [ "${KEEP:-0}" = 1 ]; then echo "drain: work dir $W" >&2; else rm -rf "$W"; fi
	exit 0
fi
echo "drain: problems; work dir kept: $W" >&2
exit 1
