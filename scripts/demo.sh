#!/bin/sh
# golm demo (make demo): a license server for this host, two seats taken,
# a third denied, lmstat -a, lmdown. Runs without a terminal and leaves no
# process and no file behind.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LMUTIL="$ROOT/lmutil"
[ -x "$LMUTIL" ] || { echo "demo: build lmutil first (make demo does)" >&2; exit 1; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/golm-demo.XXXXXX")
LMGRD_PID=
HOLDERS=

cleanup() {
	status=$?
	trap - EXIT INT TERM
	# The commands the holders run, then the holders, then lmgrd.
	for f in "$DIR"/sleep-*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	for p in $HOLDERS; do
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$LMGRD_PID" ] && kill -0 "$LMGRD_PID" 2>/dev/null; then
		kill "$LMGRD_PID" 2>/dev/null || true
		wait "$LMGRD_PID" 2>/dev/null || true
	fi
	rm -rf "$DIR"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# waitfor TRIES COMMAND...: run COMMAND every 0.1 s until it succeeds.
waitfor() {
	n=$1
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# show APPLET ARGS...: print the command line as typed, then run it.
show() {
	echo
	echo "\$ $*"
	"$LMUTIL" "$@"
}

lm() { "$LMUTIL" "$@"; }

cp testdata/keys/demo.key testdata/keys/demo.pub "$DIR"/
cd "$DIR"

started() { grep -q 'Started demo (internet tcp_port' debug.log; }
in_use() { lm lmstat -f f1 -c license.lic | grep -q "Total of $1 licenses* in use"; }

# Find a free port by trying: lmgrd gives up on a busy one after a second.
port=27100
while :; do
	cat >license.lic <<EOF
SERVER this_host ANY $port
VENDOR demo
FEATURE f1 demo 1.0 permanent 2 VENDOR_STRING="golm demo"
EOF
	lm lmcrypt -k demo.key license.lic >/dev/null
	rm -f debug.log
	GOLM_LMGRD_BIND_RETRY=1s GOLM_LOCKDIR="$DIR/lock" "$LMUTIL" lmgrd -z -c license.lic -l debug.log &
	LMGRD_PID=$!
	if waitfor 100 started; then
		break
	fi
	kill "$LMGRD_PID" 2>/dev/null || true
	wait "$LMGRD_PID" 2>/dev/null || true
	LMGRD_PID=
	port=$((port + 1))
	[ "$port" -lt 27200 ] || { echo "demo: no free port in 27100-27199" >&2; exit 1; }
done

echo "golm demo: a license server on port $port of this host, in $DIR"
echo
echo "\$ cat license.lic    # signed with the demo key (testdata/keys)"
cat license.lic
echo
echo "\$ lmgrd -z -c license.lic -l debug.log &"
cat debug.log

# hold USER: lmwrap checks f1 out for USER and holds it while a sleep runs.
hold() {
	USER=$1 LOGNAME=$1 DISPLAY=":$2" "$LMUTIL" lmwrap -c license.lic -v 1.0 f1 -- \
		sh -c 'echo $$ >"sleep-$USER.pid"; exec sleep 600' &
	HOLDERS="$HOLDERS $!"
	waitfor 100 in_use "$2" || { echo "demo: $1 got no seat" >&2; exit 1; }
	echo
	echo "\$ USER=$1 lmwrap -c license.lic -v 1.0 f1 -- sleep 600 &    # holds seat $2 of 2"
}
hold alice 1
hold bob 2

echo
echo "\$ USER=carol lmwrap -c license.lic f1 -- true"
status=0
USER=carol LOGNAME=carol DISPLAY=:3 lm lmwrap -c license.lic f1 -- true || status=$?
echo "exit status $status"
[ "$status" -eq 252 ] || { echo "demo: the third checkout was not denied with -4" >&2; exit 1; }

show lmstat -a -c license.lic

show lmdown -q -c license.lic
wait "$LMGRD_PID" 2>/dev/null || true
LMGRD_PID=

echo
echo "\$ cat debug.log"
cat debug.log
