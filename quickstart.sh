#!/usr/bin/env bash
# quickstart.sh: the README's two commands.
#
#   ./quickstart.sh run    install what is missing, build, run Stoa on embedded defaults
#   ./quickstart.sh test   install what is missing, build, run the whole test suite
#                          (a -Werror build, then an ASan+UBSan build), ending with
#                          "N passed, M failed"
#
# Works on a fresh Debian 12 machine as root or with sudo; running it again
# only does what is left to do.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"
SRC=$PWD
JOBS=$(nproc 2>/dev/null || echo 2)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

BUILD_PKGS="build-essential autoconf automake libtool pkg-config
  libglib2.0-dev libnice-dev libsrtp2-dev libnss3-dev libssl-dev libusrsctp-dev
  libmicrohttpd-dev libwebsockets-dev libjansson-dev libconfig-dev"
TEST_PKGS="iproute2 util-linux curl python3 python3-websockets python3-aiohttp python3-aiortc
  python3-yaml python3-jsonschema
  python3-prometheus-client chromium nodejs npm coturn janus-demos"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_missing() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	# npm may come with a non-Debian Node.js; only ask apt for it when there is no npm at all.
	if printf '%s\n' "${missing[@]}" | grep -qx npm && command -v npm >/dev/null; then
		missing=("${missing[@]/npm}")
	fi
	if printf '%s\n' "${missing[@]}" | grep -qx nodejs && command -v node >/dev/null; then
		missing=("${missing[@]/nodejs}")
	fi
	local want=()
	for p in "${missing[@]}"; do [ -n "$p" ] && want+=("$p"); done
	[ ${#want[@]} -eq 0 ] && return 0
	log "installing ${want[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}

# build DIR [configure flags...]: an out-of-tree build, reconfigured only when needed.
build() {
	local dir=$1; shift
	[ -x "$SRC/configure" ] || { log "autoreconf"; (cd "$SRC" && ./autogen.sh >/dev/null 2>&1); }
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$SRC/configure" -nt "$dir/Makefile" ] ||
	   [ "$(cat "$dir/.stoa-flags" 2>/dev/null)" != "$*" ]; then
		log "configure $dir $*"
		(cd "$dir" && "$SRC/configure" -q "$@")
		echo "$*" > "$dir/.stoa-flags"
	fi
	log "make -C $dir"
	make -s -C "$dir" -j"$JOBS" >/dev/null
}

cmd_run() {
	install_missing $BUILD_PKGS
	build "$SRC/build"
	cat >&2 <<EOT

Stoa is starting on embedded defaults (Ctrl-C stops it):
  demo pages        http://localhost:8088/
  Janus API (HTTP)  http://localhost:8088/janus
  Janus API (WS)    ws://localhost:8188   (subprotocol janus-protocol)
  Admin API         http://127.0.0.1:7088/admin, ws://127.0.0.1:7188 (janus-admin-protocol)

EOT
	mkdir -p "$SRC/build/empty-configs"
	exec "$SRC/build/src/stoa" -P "$SRC/build/plugins/.libs" --html-folder "$SRC/html" \
		-F "$SRC/build/empty-configs" "$@"
}

# Sums automake's test-suite.log summaries of the given build dirs.
summarize() {
	local pass=0 fail=0 skip=0 n
	for dir in "$@"; do
		local s="$dir/test-suite.log"
		[ -f "$s" ] || { fail=$((fail + 1)); continue; }
		n=$(sed -n 's/^# PASS: *//p' "$s"); pass=$((pass + ${n:-0}))
		n=$(sed -n 's/^# SKIP: *//p' "$s"); skip=$((skip + ${n:-0}))
		for k in FAIL ERROR XPASS; do
			n=$(sed -n "s/^# $k: *//p" "$s"); fail=$((fail + ${n:-0}))
		done
	done
	# A skipped test proved nothing: quickstart.sh test installs everything
	# every test needs, so a skip means the machine or the harness is
	# broken, and CI must not go green on it. Name them, count them failed.
	if [ "$skip" -gt 0 ]; then
		for dir in "$@"; do
			grep -h '^SKIP' "$dir/test-suite.log" 2>/dev/null | sed 's/^/skipped (counted as failed): /' >&2
		done
		fail=$((fail + skip))
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

check() {
	local dir=$1 jobs=${2:-$JOBS} status=0
	log "make check in $dir (-j$jobs)"
	rm -f "$dir/test-suite.log"
	make -s -C "$dir" -j"$jobs" check >/dev/null 2>&1 || status=1
	# Show what failed, with its log, so CI output explains itself.
	if [ $status -ne 0 ]; then
		grep -E '^(FAIL|ERROR|XPASS)' "$dir/test-suite.log" >&2 || true
		for f in $(grep -lE '^(not ok|Bail out)' $(find "$dir/tests" -name '*.log') 2>/dev/null); do
			echo "---- $f" >&2; tail -n 60 "$f" >&2
		done
	fi
	return $status
}

cmd_test() {
	install_missing $BUILD_PKGS $TEST_PKGS
	if [ ! -d "$SRC/tests/node_modules" ] || [ "$SRC/tests/package-lock.json" -nt "$SRC/tests/node_modules" ]; then
		log "npm ci (tests)"
		(cd "$SRC/tests" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) && touch "$SRC/tests/node_modules"
	fi
	export STOA_NODE_MODULES="$SRC/tests/node_modules"
	local status=0
	build "$SRC/build-check" --enable-werror
	check "$SRC/build-check" || status=1
	build "$SRC/build-asan" --enable-werror --enable-sanitizers
	# One test at a time under the sanitizers: they slow the server
	# about 3x, and two media tests at once on a 2-core machine starve
	# ICE and DTLS timers (a restart that misses its window, a check
	# that times out) -- failures of the machine, not of the code.
	# (No comment may sit inside the continued line below: it would end
	# the command and leave the two options unexported.)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		check "$SRC/build-asan" 1 || status=1
	summarize "$SRC/build-check" "$SRC/build-asan" || status=1
	return $status
}

case "${1:-}" in
	run) shift; cmd_run "$@" ;;
	test) shift; cmd_test "$@" ;;
	*) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
