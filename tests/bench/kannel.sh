#!/bin/bash
# kannel.sh N: MO -> MT round trips per second through real Kannel on
# loopback, fakesmsc -> bearerbox -> smsbox -> X -> smsbox -> bearerbox ->
# fakesmsc, where X is
#   hotlined   one hotlined per county with a Kannel link (its own SQLite,
#              the shipped menus, synchronous=full as shipped), answering
#              through sendsms (senders = 1, the default);
#   hotlined-s4  the same with senders = 4 (four sendsms calls in flight), 1 county;
#   echo       smsbox's own sms-service answering every message from a static
#              `text` (the answer hotlined gives to 低保, the same length):
#              Kannel alone, what hotlined costs is the difference;
# at 1 and 4 counties (one bearerbox, one smsbox and one fake SMSC per county,
# routed by short code). Each county's fakesmsc sends N messages as fast as it
# can (-i 0), from one villager's number with a distinct number at the end of
# each text (-z 4); hotlined's per-phone limits are off. The clock runs from
# the first fakesmsc's start to the last answer's first part.
# KANNEL_SYNC=normal runs hotlined with database.synchronous = "normal".
# Prints, per mode and county count:
#   kannel MODE counties=C n=N wall_s=… rt_per_s=… answered=…
# and "kannel ratio c1=… c4=…" (hotlined / echo, same run).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${1:-500}
FAKESMSC=/usr/lib/kannel/test/fakesmsc
for b in /usr/sbin/bearerbox /usr/sbin/smsbox "$FAKESMSC"; do
	[ -x "$b" ] || die "kannel: $b is missing (scripts/bootstrap installs kannel and kannel-extras)"
done

W=$(mktemp -d /tmp/bench-kannel-XXXXXX)
PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
}
trap 'stop_all' EXIT

# wait_port PORT PID: until something listens on PORT (and PID is still alive)
wait_port() {
	local i=0
	until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		i=$((i + 1))
		kill -0 "$2" 2>/dev/null || die "kannel: the process for port $1 ended ($W)"
		[ $i -lt 300 ] || die "kannel: nothing listens on port $1 ($W)"
		sleep 0.05
	done
}

# The answer to 低保, for the echo service (the same text hotlined sends).
ANSWER=$(printf '13800000001\t低保\n' | "$HOTLINE_BUILD/hotlinectl" -c "$SRC/config/hotline.cfg" sim --batch 2>/dev/null |
	cut -f3 | sed 's/\\n/ /g')
[ -n "$ANSWER" ] || die "kannel: hotlinectl sim gave no answer to 低保"

# count_answers LOG...: whole answers fakesmsc got (a lone SMS, or the first part of a concatenated one)
count_answers() {
	cat "$@" 2>/dev/null | python3 -c '
import sys, urllib.parse
n = 0
for line in sys.stdin:
    i = line.find("Got message ")
    if i < 0:
        continue
    body = line[line.find("<", i) + 1:].rstrip().rstrip(">")
    w = body.split(" ")
    if len(w) > 3 and w[2] == "udh":
        udh = urllib.parse.unquote_to_bytes(w[3])
        if len(udh) >= 6 and udh[-1] != 1:
            continue
    n += 1
print(n)'
}

# run MODE C: one measurement
run() {
	local mode=$1 c=$2 d="$W/$1-$2" i senders=1
	[ "$mode" = hotlined-s4 ] && senders=4
	local admin box
	mkdir -p "$d"
	admin=$(free_port)
	box=$(free_port)
	local smsc=() sendsms=() http=()
	for i in $(seq 1 "$c"); do
		smsc[i]=$(free_port)
		sendsms[i]=$(free_port)
		http[i]=$(free_port)
	done
	{
		printf 'group = core\nadmin-port = %s\nadmin-password = bench\nadmin-interface = 127.0.0.1\n' "$admin"
		printf 'smsbox-port = %s\nbox-allow-ip = 127.0.0.1\nlog-file = "%s/bearerbox.log"\nlog-level = 2\n' "$box" "$d"
		printf 'store-type = file\nstore-location = "%s/bearerbox.store"\ndlr-storage = internal\n\n' "$d"
		printf 'group = smsbox\nbearerbox-host = 127.0.0.1\n\n'
		for i in $(seq 1 "$c"); do
			printf 'group = smsc\nsmsc = fake\nsmsc-id = fake%s\nport = %s\nconnect-allow-ip = 127.0.0.1\n\n' "$i" "${smsc[i]}"
			printf 'group = smsbox-route\nsmsbox-id = c%s\nshortcode = "1234%s"\n\n' "$i" "$i"
		done
	} >"$d/bearerbox.conf"
	for i in $(seq 1 "$c"); do
		{
			printf 'group = core\nadmin-port = %s\nsmsbox-port = %s\n\n' "$admin" "$box"
			printf 'group = smsbox\nsmsbox-id = c%s\nbearerbox-host = 127.0.0.1\nbearerbox-port = %s\n' "$i" "$box"
			printf 'sendsms-port = %s\nsendsms-interface = 127.0.0.1\nlog-file = "%s/smsbox-%s.log"\nlog-level = 2\n' \
				"${sendsms[i]}" "$d" "$i"
			printf 'http-request-retry = 60\nhttp-queue-delay = 1\n\n'
			printf 'group = sendsms-user\nusername = hotline\npassword = bench\nmax-messages = 10\nconcatenation = true\n\n'
			printf 'group = sms-service\nkeyword = default\ncatch-all = true\nconcatenation = true\n'
			if [ "$mode" = echo ]; then
				printf 'max-messages = 10\ntext = "%s"\n' "$ANSWER"
			else
				printf 'max-messages = 0\nomit-empty = true\n'
				printf 'post-url = "http://127.0.0.1:%s/kannel/c%s/bench-secret?id=%%I&from=%%p&to=%%P&coding=%%c&charset=%%C&time=%%T"\n' \
					"${http[i]}" "$i"
			fi
		} >"$d/smsbox-$i.conf"
	done
	/usr/sbin/bearerbox -v 2 "$d/bearerbox.conf" >"$d/bearerbox.out" 2>&1 &
	PIDS+=($!)
	wait_port "$box" $!
	for i in $(seq 1 "$c"); do
		/usr/sbin/smsbox -v 2 "$d/smsbox-$i.conf" >"$d/smsbox-$i.out" 2>&1 &
		PIDS+=($!)
		wait_port "${sendsms[i]}" $!
		if [ "$mode" != echo ]; then
			mkdir -p "$d/h$i"
			cat >"$d/h$i/hotline.cfg" <<CONF
database = { path = "hotline.db"; synchronous = "${KANNEL_SYNC:-full}"; };
menus = { dir = "$SRC/menus"; };
log = { level = "warn"; };
office = { name = "崆峒区民政局"; };
console = { enabled = false; };
http = { address = "127.0.0.1"; port = ${http[i]}; };
limits = { replies_per_minute = 0; replies_per_day = 0; repeat_window = 0; };
cases = { quiet_hours = ""; };
modems = (
  { name = "c$i"; kind = "kannel"; sendsms_url = "http://127.0.0.1:${sendsms[i]}/cgi-bin/sendsms";
    sendsms_user = "hotline"; sendsms_password = "bench"; numbers = ["1234$i"];
    secret = "bench-secret"; allow = ["127.0.0.1"]; senders = $senders; }
);
CONF
			# shellcheck disable=SC2046
			"$HOTLINE_BUILD/hotlined" -c "$d/h$i/hotline.cfg" $(root_args) >"$d/h$i/hotlined.log" 2>&1 &
			PIDS+=($!)
			wait_port "${http[i]}" $!
		fi
	done
	local logs=() t0 t1 got=0 last=-1 still=0 want=$((N * c))
	t0=$(date +%s.%N)
	for i in $(seq 1 "$c"); do
		"$FAKESMSC" -H 127.0.0.1 -r "${smsc[i]}" -i 0 -m "$N" -z 4 "13800000001 1234$i text 低保" \
			>"$d/fakesmsc-$i.log" 2>&1 </dev/null &
		PIDS+=($!)
		logs+=("$d/fakesmsc-$i.log")
	done
	# until every answer is in, or nothing more comes for 30 s
	while :; do
		got=$(count_answers "${logs[@]}")
		t1=$(date +%s.%N)
		[ "$got" -ge "$want" ] && break
		if [ "$got" -eq "$last" ]; then
			still=$((still + 1))
			[ $still -lt 300 ] || break
		else
			still=0
			last=$got
		fi
		sleep 0.1
	done
	stop_all
	awk -v m="$mode" -v c="$c" -v n="$N" -v g="$got" -v a="$t0" -v b="$t1" 'BEGIN {
		w = b - a; printf "kannel %s counties=%d n=%d wall_s=%.2f rt_per_s=%.1f answered=%d\n", m, c, n * c, w, g / w, g }'
	[ "$got" -ge "$want" ] || echo "kannel: $mode at $c counties: $got of $want answered ($d)" >&2
}

R=$(
	run hotlined 1
	run echo 1
	run hotlined 4
	run echo 4
	run hotlined-s4 1
)
echo "$R"
echo "$R" | awk '
	/^kannel hotlined counties=1 / { for (i = 1; i <= NF; i++) if ($i ~ /^rt_per_s=/) h1 = substr($i, 10) }
	/^kannel echo counties=1 /     { for (i = 1; i <= NF; i++) if ($i ~ /^rt_per_s=/) e1 = substr($i, 10) }
	/^kannel hotlined counties=4 / { for (i = 1; i <= NF; i++) if ($i ~ /^rt_per_s=/) h4 = substr($i, 10) }
	/^kannel echo counties=4 /     { for (i = 1; i <= NF; i++) if ($i ~ /^rt_per_s=/) e4 = substr($i, 10) }
	END { printf "kannel ratio c1=%s c4=%s\n", (e1 > 0 ? sprintf("%.2f", h1 / e1) : "?"), (e4 > 0 ? sprintf("%.2f", h4 / e4) : "?") }'
if [ "${KEEP:-0}" = 1 ]; then echo "kannel: work dir $W" >&2; else rm -rf "$W"; fi
