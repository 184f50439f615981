#!/bin/bash
# `start --config FILE` (the systemd unit's way of starting it): every line
# form is read, the command line wins over the file, bad files are refused
# with their line number before anything is attached; and the notifications
# systemd's Type=notify and WatchdogSec= rely on arrive on NOTIFY_SOCKET:
# READY=1 with a STATUS once the capture runs and REST answers, WATCHDOG=1
# pings while WATCHDOG_USEC is set, counter STATUS lines, STOPPING=1 on
# SIGTERM. (systemd is not PID 1 here: a Python socket plays its part.)
set -euo pipefail
HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
source "$HERE/../api/lib.sh"
api_init "$1" cf
C=$API_TMP/lab.conf
E=$API_TMP/err

# refused: exit 2, the file:line and the reason, nothing attached
bad()
{
	local want=$1 rc=0
	shift
	in_cap "$API_BIN" start "$@" >"$E" 2>&1 || rc=$?
	[ "$rc" = 2 ] || api_fail "'$*' with $(cat "$C"): exit $rc, want 2 ($(cat "$E"))"
	grep -qF -- "$want" "$E" || api_fail "'$*': '$(cat "$E")' lacks '$want'"
	in_cap ip -d link show "$NH_CAP_IF" | grep -q 'prog/xdp' &&
		api_fail "'$*': something was attached"
	return 0
}
printf 'iface %s\n# fine\n\nsnaplen 80\nbogus 1\n' "$NH_CAP_IF" >"$C"
bad "lab.conf:5: unknown option 'bogus'" --config "$C"
printf 'iface %s\ntransparent yes\n' "$NH_CAP_IF" >"$C"
bad "lab.conf:2: transparent is a flag and takes no value" --config "$C"
printf 'iface %s\n  dump relative/x\n' "$NH_CAP_IF" >"$C"
bad "lab.conf:2: dump 'relative/x' must be an absolute path" --config "$C"
printf 'filter\n' >"$C"
bad "lab.conf:1: filter needs a value" --config="$C"
printf 'config /etc/x.conf\n' >"$C"
bad "lab.conf:1: unknown option 'config'" --config "$C"
printf 'iface %s\n' "$NH_CAP_IF" >"$C"
bad "--config given twice" --config "$C" --config "$C"
rc=0
in_cap "$API_BIN" start --config "$API_TMP/missing.conf" >"$E" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -qF "missing.conf: No such file or directory" "$E" ||
	api_fail "missing file: exit $rc, $(cat "$E")"

# every line form; the command line's --filter and --name win
cat >"$C" <<CONF
# lab capture
iface $NH_CAP_IF
name=wrong
  mode   ingress
filter = "tcp port 80"
snaplen 96
dump $API_TMP/lab
listen=127.0.0.1:9000
no-auth
stats-interval 1

CONF
N=$API_TMP/notify
python3 "$HERE/notify_listen.py" "$API_TMP/notify.sock" "$N" &
nh_cleanup_add "kill $!"
for ((i = 0; i < 100; i++)); do grep -q listening "$N" 2>/dev/null && break; sleep 0.05; done
API_LOG=$API_TMP/appliance.log
NOTIFY_SOCKET=$API_TMP/notify.sock WATCHDOG_USEC=300000 \
	ip netns exec "$NH_CAP_NS" "$API_BIN" start --config "$C" --filter "udp port 5555" \
	--name lab >"$API_LOG" 2>&1 &
API_PID=$!
nh_cleanup_add "kill -KILL $API_PID"

# wait_notify REGEX: a notification matching REGEX arrives (10 s at most)
wait_notify()
{
	for ((i = 0; i < 200; i++)); do
		grep -qE "$1" "$N" && return 0
		kill -0 "$API_PID" 2>/dev/null || api_fail "appliance exited; notifications: $(cat "$N")"
		sleep 0.05
	done
	api_fail "no notification matching '$1'; got: $(cat "$N")"
}
wait_notify "^READY=1\|STATUS=capturing lab on $NH_CAP_IF, REST API 127.0.0.1:9000$"
# READY means REST answers and the capture is set as the file and the command line say
expect 200 GET /api/v1/captures/lab
jeq .iface "$NH_CAP_IF"
jeq .filter "udp port 5555"
jeq .capture ingress
jeq .snaplen 96
jeq .dump "$API_TMP/lab"
expect 404 GET /api/v1/captures/wrong
api_send 5555 20
wait_stat lab written 20
# watchdog pings keep coming, and counters reach the status line
for ((j = 0; j < 200; j++)); do
	[ "$(grep -c '^WATCHDOG=1$' "$N")" -ge 3 ] && break
	sleep 0.05
done
[ "$(grep -c '^WATCHDOG=1$' "$N")" -ge 3 ] || api_fail "fewer than 3 WATCHDOG=1: $(cat "$N")"
wait_notify '^STATUS=lab: seen [0-9]+ matched 20 written 20 dropped 0$'
grep -q STOPPING "$N" && api_fail "STOPPING before any signal"
kill -TERM "$API_PID"
wait "$API_PID" || api_fail "appliance exited with status $?"
API_PID=
grep -qE '^STOPPING=1\|STATUS=Terminated, stopping$' "$N" || api_fail "no STOPPING=1: $(cat "$N")"
[ "$(pcap_count "$API_TMP/lab.pcap" udp port 5555)" = 20 ] || api_fail "lab.pcap: not 20 records"
echo "PASS: config file read, command line wins, READY/WATCHDOG/STATUS/STOPPING sent"
