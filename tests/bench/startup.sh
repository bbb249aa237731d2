#!/bin/bash
# startup.sh: time from exec to ready (menus loaded, database open, modem
# thread and HTTP started), with the shipped config/hotline.cfg (paths and
# port moved into a work folder), twice: on a new database (created and
# migrated) and again on the same database (a restart).
#   ready_ms    fork/exec to the "ready: ... (started in N ms)" log line
#               (polled every millisecond)
#   started_ms  the daemon's own figure in that line (from main(), after exec
#               and dynamic linking)
#   http_ms     fork/exec to the first answer of GET /healthz
# Prints "startup new ..." and "startup restart ..." (key=value).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d /tmp/bench-startup-XXXXXX)
mkdir -p "$W/var" "$W/phone"
PORT=$(free_port)
make_cfg "$W/hotline.cfg" "$W/var/hotline.db" "$W/phone" "$PORT"
for kind in new restart; do
	# shellcheck disable=SC2046
	R=$("$BB/watch" --log "$W/hotlined-$kind.log" --ready " ready: " --http "$PORT" --timeout 30 -- \
		"$HOTLINE_BUILD/hotlined" -c "$W/hotline.cfg" $(root_args)) || die "startup: $kind failed ($W)"
	echo "startup $kind ready_ms=$(echo "$R" | kv ready_ms) started_ms=$(echo "$R" | kv started_ms)" \
		"http_ms=$(echo "$R" | kv http_ms) hwm_kb=$(echo "$R" | kv hwm_kb)"
done
rm -rf "$W"
