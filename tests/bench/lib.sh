# Shared by the bench scripts (sourced, not run).
#   SRC    the repository root        HOTLINE_BUILD  the build folder (default SRC/build)
#   BB     the bench binaries (HOTLINE_BUILD/bench)
# shellcheck shell=bash disable=SC2034

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HOTLINE_BUILD=${HOTLINE_BUILD:-$SRC/build}
BB=$HOTLINE_BUILD/bench
SHARED=$(cd "$SRC/.." && pwd)/shared
export LC_ALL=C.UTF-8

die() { echo "bench: $*" >&2; exit 1; }

# A TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# value of KEY in a "k=v k=v" line on stdin ("?" when absent)
kv() {
	awk -v k="$1" '{ for (i = 1; i <= NF; i++) { n = index($i, "=");
		if (n && substr($i, 1, n - 1) == k) { print substr($i, n + 1); f = 1; exit } } }
		END { if (!f) print "?" }'
}

# hotlined's arguments for running as root on a test machine
root_args() {
	if [ "$(id -u)" -eq 0 ]; then echo "--allow-root"; fi
}

# make_cfg OUT DB PHONE PORT [EXTRA]: the shipped config/hotline.cfg, as it is,
# with only the paths and the HTTP port moved into the work folder; EXTRA
# (libconfig text) is appended for settings the shipped file does not set.
make_cfg() {
	local out=$1 db=$2 phone=$3 port=$4 extra=${5:-}
	sed -e "s#path = \"../var/hotline.db\";#path = \"$db\";#" \
		-e "s#dir = \"../menus\";#dir = \"$SRC/menus\";#" \
		-e "s#device = \"../var/phone\";#device = \"$phone\";#" \
		-e "s#port = 8080;#port = $port;#" \
		-e "s#port = 8081;#port = $(free_port);#" \
		"$SRC/config/hotline.cfg" >"$out"
	if ! grep -q "\"$db\"" "$out" || ! grep -q "\"$phone\"" "$out" || ! grep -q "port = $port;" "$out"; then
		die "make_cfg: config/hotline.cfg no longer has the lines this script rewrites"
	fi
	[ -z "$extra" ] || printf '\n# bench overrides\n%s\n' "$extra" >>"$out"
	"$HOTLINE_BUILD/hotlined" -n -c "$out" >/dev/null 2>"$out.check" ||
		{ cat "$out.check" >&2; die "make_cfg: $out does not check"; }
}

