#!/bin/bash
# The extcap program with Wireshark's own tool, tshark 4.0, against a live
# appliance (two captures) in a network namespace:
# - installed in a private HOME's personal extcap folder
#   (~/.config/wireshark/extcap in Wireshark 4.0), `tshark -D` lists both
#   captures (ca-first, ca-web); --extcap-dlts and --extcap-config answer
#   in the extcap format; a filter is checked with libpcap's message;
# - `tshark -i ca-first -c 100` captures the first 100 of the datagrams
#   sent, in order (the capture in network mode);
# - a capture not in network mode is refused with a message saying how,
#   and nothing is changed; with --networkmode-on (and a capture filter) it
#   streams into the FIFO, and when the reader goes away, network mode and
#   the filter are put back as they were.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../api/lib.sh"
EXTCAP=$(readlink -f "$2")
api_init "$1" xc
api_start --filter "udp port 5555" --mode ingress
in_cap ip link add "${API_ID}x" type veth peer name "${API_ID}y"
in_cap ip link set "${API_ID}x" up
in_cap ip link set "${API_ID}y" up
expect 201 POST /api/v1/captures "{\"name\":\"web\",\"iface\":\"${API_ID}x\",\"filter\":\"tcp port 80\",\"dump\":\"$API_TMP/web\"}"

H=$API_TMP/home
mkdir -p "$H/.config/wireshark/extcap"
cp "$EXTCAP" "$H/.config/wireshark/extcap/capture-appliance-extcap"
ts() { in_cap env HOME="$H" tshark "$@"; }

# listed
ts -D >"$API_TMP/D" 2>"$API_TMP/D.err" || api_fail "tshark -D: $(cat "$API_TMP/D.err")"
grep -Eq '^[0-9]+\. ca-first \(capture-appliance: first on '"$NH_CAP_IF"'\)$' "$API_TMP/D" ||
	api_fail "tshark -D lacks ca-first: $(cat "$API_TMP/D")"
grep -Eq '^[0-9]+\. ca-web \(capture-appliance: web on '"${API_ID}x"'\)$' "$API_TMP/D" ||
	api_fail "tshark -D lacks ca-web: $(cat "$API_TMP/D")"
out=$(in_cap "$EXTCAP" --extcap-dlts --extcap-interface ca-first)
[ "$out" = "dlt {number=1}{name=EN10MB}{display=Ethernet}" ] || api_fail "dlts: $out"
in_cap "$EXTCAP" --extcap-config --extcap-interface ca-first >"$API_TMP/cfg"
for a in --server --token-file --cacert --networkmode-on; do
	grep -q "^arg {number=[0-9]}{call=$a}" "$API_TMP/cfg" || api_fail "config lacks $a: $(cat "$API_TMP/cfg")"
done
out=$(in_cap "$EXTCAP" --extcap-interface ca-first --extcap-capture-filter "tcp port")
[ "$out" = "can't parse filter expression: syntax error" ] || api_fail "bad filter check: '$out'"
out=$(in_cap "$EXTCAP" --extcap-interface ca-first --extcap-capture-filter "udp port 5555")
[ -z "$out" ] || api_fail "good filter check: '$out'"

# refused while not in network mode; nothing changed
mkfifo "$API_TMP/fifo"
rc=0
in_cap "$EXTCAP" --capture --extcap-interface ca-first --fifo "$API_TMP/fifo" \
	--extcap-capture-filter udp 2>"$API_TMP/err" || rc=$?
[ "$rc" = 1 ] || api_fail "capture without network mode: exit $rc"
grep -q "not in network mode.*networkmode=true.*--networkmode-on" "$API_TMP/err" ||
	api_fail "no reason given: $(cat "$API_TMP/err")"
expect 200 GET /api/v1/captures/first
jeq .networkmode false
jeq .filter "udp port 5555"

# tshark -i ca-first -c 100: the first 100 datagrams, in order
expect 200 PUT /api/v1/captures/first/networkmode 'true'
ts -i ca-first -c 100 -F pcap -w "$API_TMP/ts.pcap" >"$API_TMP/ts.out" 2>&1 &
tsp=$!
sleep 3 # tshark starts the extcap, which subscribes
# exactly 100: none left in the backlog for the next network-mode session
api_send 5555 100 100 1000
for ((i = 0; i < 300; i++)); do kill -0 "$tsp" 2>/dev/null || break; sleep 0.1; done
kill -0 "$tsp" 2>/dev/null && api_fail "tshark -c 100 still runs: $(cat "$API_TMP/ts.out")"
wait "$tsp" || api_fail "tshark: $(cat "$API_TMP/ts.out")"
[ "$(pcap_count "$API_TMP/ts.pcap")" = 100 ] || api_fail "tshark wrote $(pcap_count "$API_TMP/ts.pcap") packets"
seqs_ok "$API_TMP/ts.pcap" 5555 100
expect 200 PUT /api/v1/captures/first/networkmode 'false'

# --networkmode-on and a filter, for the duration of the capture only
in_cap "$EXTCAP" --capture --extcap-interface ca-first --fifo "$API_TMP/fifo" \
	--networkmode-on --extcap-capture-filter "udp dst port 5555" 2>"$API_TMP/err" &
xp=$!
in_cap tcpdump -r "$API_TMP/fifo" -c 20 -w "$API_TMP/fifo.pcap" 2>/dev/null &
tp=$!
for ((i = 0; i < 100; i++)); do
	req GET /api/v1/captures/first/filter
	[ "$BODY" = '"udp dst port 5555"' ] && break
	sleep 0.1
done
expect 200 GET /api/v1/captures/first
jeq .networkmode true
jeq .filter "udp dst port 5555"
sleep 1
api_send 5555 40 100 1000
wait "$tp" || api_fail "tcpdump on the FIFO failed"
# the reader is gone: the next packet ends the stream, then it puts back
api_send 5555 5 100 100
for ((i = 0; i < 100; i++)); do kill -0 "$xp" 2>/dev/null || break; sleep 0.1; done
kill -0 "$xp" 2>/dev/null && api_fail "the extcap outlived its reader"
wait "$xp" || api_fail "extcap: $(cat "$API_TMP/err")"
seqs_ok "$API_TMP/fifo.pcap" 5555 20
expect 200 GET /api/v1/captures/first
jeq .networkmode false
jeq .filter "udp port 5555"

# stopped by Wireshark (SIGTERM) on a quiet capture: it ends and puts back too
# not through in_cap: $! must be the extcap itself
ip netns exec "$NH_CAP_NS" "$EXTCAP" --capture --extcap-interface ca-first --fifo "$API_TMP/fifo" \
	--networkmode-on 2>"$API_TMP/err" &
xp=$!
exec 7<"$API_TMP/fifo" # the reader, as Wireshark would hold it
for ((i = 0; i < 100; i++)); do
	req GET /api/v1/captures/first/networkmode
	[ "$BODY" = true ] && break
	sleep 0.1
done
[ "$BODY" = true ] || api_fail "--networkmode-on did not switch it on"
sleep 0.5
kill -TERM "$xp"
for ((i = 0; i < 50; i++)); do kill -0 "$xp" 2>/dev/null || break; sleep 0.1; done
kill -0 "$xp" 2>/dev/null && api_fail "the extcap ignored SIGTERM on a quiet stream"
wait "$xp" || api_fail "extcap after SIGTERM: $(cat "$API_TMP/err")"
exec 7<&-
expect 200 GET /api/v1/captures/first/networkmode
jeq . false
api_alive
api_stop
echo PASS
