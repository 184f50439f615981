#!/bin/bash
# The command-line client against the real server: add, set, show (all,
# one, one field; --json where JSON is parsed), stats, pull (to a file and to stdout), del; --server and
# --help per command; every failure exits non-zero with the server's
# message, and a refused command changes nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" cl
api_start --ingress-path afxdp # stats.queues counts AF_XDP workers
in_cap ip link add "${API_ID}x" type veth peer name "${API_ID}y"
in_cap ip link set "${API_ID}x" up
in_cap ip link set "${API_ID}y" up
O=$API_TMP/out
E=$API_TMP/err

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

ok add web iface="${API_ID}x" capture=ingress filter="tcp port 80" snaplen=80 dump="$API_TMP/web"
BODY=$(cat "$O")
jeq .name web
jeq .snaplen 80
ok show web filter
[ "$(cat "$O")" = "tcp port 80" ] || api_fail "show web filter: $(cat "$O")"
ok show web snaplen
[ "$(cat "$O")" = 80 ] || api_fail "show web snaplen: $(cat "$O")"
ok show web dump
[ "$(cat "$O")" = "$API_TMP/web" ] || api_fail "show web dump: $(cat "$O")"
ok set web filter="udp port 5555" snaplen=120 capture=bidirectional
BODY=$(cat "$O")
jeq .filter "udp port 5555"
jeq .snaplen 120
jeq .capture bidirectional
ok show web --json
BODY=$(cat "$O")
jeq .iface "${API_ID}x"
jeq .stats.queues 1
ok show --json
BODY=$(cat "$O")
jeq 'map(.name) | join(",")' "first,web"
ok stats web --json
BODY=$(cat "$O")
jeq .seen 0
# through --server (given after the command, too)
ok --server http://127.0.0.1:9000 show web capture
[ "$(cat "$O")" = bidirectional ] || api_fail "--server show"
ok show web networkmode --server http://localhost:9000/
[ "$(cat "$O")" = false ] || api_fail "--server localhost"

# refusals: non-zero, the server's message, nothing changed
no 1 "1..262144" set web snaplen=0
no 1 "integer" set web snaplen=abc
no 1 "syntax error" set web filter="tcp port"
no 1 "unknown capture mode" set web capture=sideways
no 1 "true or false" set web networkmode=maybe
no 1 "unknown field 'colour'" set web colour=blue
no 1 "exists already" add web iface="${API_ID}y"
no 1 "already captured" add other iface="${API_ID}x"
no 1 "unknown interface" add other iface=nosuch0
no 1 "no capture named 'nope'" show nope
no 1 "no capture named 'nope'" del nope
no 1 "networkmode is false" pull web -w "$API_TMP/x.pcap"
[ ! -e "$API_TMP/x.pcap" ] || api_fail "a refused pull left a file"
no 1 "Connection refused" --server http://127.0.0.1:9 show web
no 2 "Usage" set web
no 2 "FIELD=VALUE" set web snaplen
no 2 "Usage" pull web
no 2 "positive integer" pull web -w - --count 0
no 2 "unknown command" frobnicate
no 2 "unknown field 'packets'" show web packets
no 2 "bad name 'a/b'" add a/b iface=lo
ok show web --json
BODY=$(cat "$O")
jeq .snaplen 120
jeq .filter "udp port 5555"

# --help of every command is true to the command
for c in add del set show stats files pull get dump extract; do
	ok "$c" --help
	grep -q "^Usage: capture-appliance .*$c" "$O" || api_fail "$c --help: $(cat "$O")"
done
ok --server "$API_URL" --help # main.c answers a bare --help itself
[ "$(grep -c '^Usage' "$O")" = 10 ] || api_fail "--help lists $(grep -c '^Usage' "$O") commands"

# pull to a file and to stdout
ok set first capture=ingress filter="udp port 5555" networkmode=true
api_cli pull first -w "$API_TMP/p.pcap" --count 25 2>"$E" &
p1=$!
in_cap bash -c "'$API_BIN' pull first -w - --count 25 > '$API_TMP/stdout.pcap'" &
p2=$!
wait_pulls 2
api_send 5555 25
wait "$p1" || api_fail "pull -w FILE: $(cat "$E")"
wait "$p2" || api_fail "pull -w -"
seqs_ok "$API_TMP/p.pcap" 5555 25
grep -q "25 packets ($(stat -c %s "$API_TMP/p.pcap") bytes) written" "$E" ||
	api_fail "pull summary: $(cat "$E")"
seqs_ok "$API_TMP/stdout.pcap" 5555 25
# --seconds ends a quiet pull
t0=$(date +%s)
ok pull first -w "$API_TMP/q.pcap" --seconds 2
(($(date +%s) - t0 < 15)) || api_fail "--seconds 2 did not end the pull"
tcpdump -nr "$API_TMP/q.pcap" >/dev/null 2>&1 || api_fail "--seconds pull: bad pcap"
ok set first networkmode=false

ok del web
no 1 "no capture named 'web'" show web
[ -f "$API_TMP/web.pcap" ] || api_fail "del web left no file"
api_alive
api_stop
echo PASS
