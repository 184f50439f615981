#!/bin/bash
# `capture-appliance extract NAME ...` (the query run by the appliance, over
# REST) against `capture-appliance extract -r PREFIX ...` (the files read by
# the CLI itself) over the same rotated, indexed files of a real capture:
# byte-identical answers for every window and expression, to a file and to
# stdout (-w -), pcap and pcapng. A bad expression, an unknown capture, a bad
# time: the daemon's (or the client's) clear message, exit status != 0, no
# OUT left and an existing OUT untouched.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" cx
# small files: several are sealed (and indexed) while the traffic flows
api_start --filter udp --rotate-size 16k
O=$API_TMP/out
E=$API_TMP/err
P=$API_TMP/first

ok() { api_cli "$@" >"$O" 2>"$E" || api_fail "'$*' failed: $(cat "$E")"; }
# no CODE MESSAGE ARGS...: fails with exit status CODE and MESSAGE on stderr
no()
{
	local want=$1 msg=$2 rc=0
	shift 2
	api_cli "$@" >"$O" 2>"$E" || rc=$?
	[ "$rc" = "$want" ] || api_fail "'$*': exit $rc, want $want ($(cat "$E"))"
	grep -qF -- "$msg" "$E" || api_fail "'$*': stderr '$(cat "$E")' lacks '$msg'"
}

# three stretches of traffic to three ports, with the time between them
# noted: windows that start and end inside files
api_send 5001 400 120 2000
T1=$(date +%s.%N)
sleep 0.3
api_send 5002 400 300 2000
T2=$(date +%s.%N)
sleep 0.3
api_send 5003 400 80 2000
wait_stat first written 1200 20
# every file but the live one sealed and given its index by the daemon
for ((i = 0; i < 100; i++)); do
	sealed=$(find "$API_TMP" -name 'first-*.pcap' | wc -l)
	idx=$(find "$API_TMP" -name 'first-*.pcap.idx' | wc -l)
	((sealed >= 4 && idx >= sealed - 1)) && break
	sleep 0.1
done
((sealed >= 4)) || api_fail "want several rotated files, got $sealed"
((idx >= sealed - 1)) || api_fail "$idx indexes for $sealed files"
api_log "$sealed files, $idx indexes"

# same WINDOW-and-EXPRESSION through the daemon and offline: equal bytes;
# prints the number of records
same()
{
	local n
	api_cli extract first "$@" -w "$API_TMP/c.pcap" 2>"$E" ||
		api_fail "extract first $*: $(cat "$E")"
	api_cli extract -r "$P" "$@" -w "$API_TMP/o.pcap" 2>"$E" ||
		api_fail "extract -r $*: $(cat "$E")"
	cmp -s "$API_TMP/c.pcap" "$API_TMP/o.pcap" ||
		api_fail "extract $*: the daemon's answer ($(stat -c %s "$API_TMP/c.pcap") bytes) differs from the offline one ($(stat -c %s "$API_TMP/o.pcap") bytes)"
	n=$(tcpdump -r "$API_TMP/c.pcap" 2>/dev/null | wc -l)
	api_log "extract $*: $n records, identical" >&2
	echo "$n"
}

n=$(same)
[ "$n" = 1200 ] || api_fail "everything: $n records, want 1200"
n=$(same 'udp port 5002')
[ "$n" = 400 ] || api_fail "udp port 5002: $n records, want 400"
n=$(same "src host $NH_PEER_IP and dst port 5001")
[ "$n" = 400 ] || api_fail "port 5001: $n records, want 400"
n=$(same --from "$T1" --to "$T2")
[ "$n" = 400 ] || api_fail "[T1, T2): $n records, want 400 (port 5002 only)"
n=$(same --from "$T1" udp port 5001 or udp port 5003)
[ "$n" = 400 ] || api_fail "from T1, ports 5001/5003: $n records, want 400"
n=$(same --to "$T1" greater 100)
[ "$n" = 400 ] || api_fail "to T1, greater 100: $n records, want 400"
n=$(same --from "$T2" 'len > 500')
[ "$n" = 0 ] || api_fail "from T2, len > 500: $n records, want 0"
# RFC 3339 times, pcapng
F=$(date -u -d "@${T1%.*}" +%FT%TZ)
same --from "$F" --format pcapng 'udp and port 5002' >/dev/null
n=$(same --from "$T1" --to "$T2" --format pcapng)
[ "$n" = 400 ] || api_fail "pcapng [T1, T2): $n records, want 400"

# -w -: the same bytes on standard output
api_cli extract first --from "$T1" -w - 'udp port 5003' >"$API_TMP/s.pcap" 2>"$E" ||
	api_fail "extract -w -: $(cat "$E")"
api_cli extract -r "$P" --from "$T1" -w - 'udp port 5003' >"$API_TMP/so.pcap"
cmp -s "$API_TMP/s.pcap" "$API_TMP/so.pcap" || api_fail "extract -w -: differs from offline"
[ "$(pcap_count "$API_TMP/s.pcap")" = 400 ] || api_fail "extract -w -: not 400 records"
# the client options anywhere, as for the other verbs
api_cli --server "$API_URL" extract first 'udp port 5003' >"$API_TMP/s2.pcap"
cmp -s "$API_TMP/s2.pcap" "$API_TMP/so.pcap" ||
	api_fail "extract to a pipe (no -w) with --server: differs"

# failures: the message, exit status != 0, nothing at OUT; an existing
# OUT untouched and no temporary file left beside it
K=$API_TMP/keep.pcap
echo "precious" >"$K"
no 2 "syntax error" extract first -w "$API_TMP/bad.pcap" 'host 10.0.0.1 and ('
no 2 "syntax error" extract first -w "$K" 'udp port'
no 1 "no capture named 'nosuch'" extract nosuch -w "$API_TMP/bad.pcap" udp
no 1 "no capture named 'nosuch'" extract nosuch -w "$K"
no 2 "bad time 'yesterday'" extract first --from yesterday -w "$K"
no 2 "--to is before --from" extract first --from "$T2" --to "$T1" -w "$K"
no 2 "--format is pcap or pcapng" extract first --format erf -w "$K"
no 2 "unknown option '--stats'" extract first --stats -w "$K"
no 2 "no capture NAME" extract -w "$K"
[ ! -e "$API_TMP/bad.pcap" ] || api_fail "a failed extract left $API_TMP/bad.pcap"
[ "$(cat "$K")" = precious ] || api_fail "a failed extract changed an existing OUT"
left=$(find "$API_TMP" -name '*.tmp.*')
[ -z "$left" ] || api_fail "temporary files left: $left"
# the daemon refuses them too (curl, as any client would)
req GET "/api/v1/captures/first/extract?filter=udp%20port"
[ "$CODE" = 400 ] || api_fail "bad filter over REST: $CODE $BODY"
req GET "/api/v1/captures/first/extract?from=$T2&to=$T1"
[ "$CODE" = 400 ] || api_fail "to before from over REST: $CODE $BODY"
jeq .error "to is before from"
req GET "/api/v1/captures/nosuch/extract"
[ "$CODE" = 404 ] || api_fail "unknown capture over REST: $CODE $BODY"

api_alive
api_stop
echo "PASS: client extract == offline extract (9 windows and expressions, to a file, to stdout, pcap and pcapng); errors leave no file"
