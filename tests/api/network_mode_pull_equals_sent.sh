#!/bin/bash
# Network mode end to end, between two network namespaces:
# - 409 while networkmode is false;
# - two pull clients at once (curl and `capture-appliance pull`) each get
#   exactly the packets sent that match the filter, in order, and nothing
#   else; the local file does not grow meanwhile;
# - `curl -N URL | tcpdump -r -` reads the stream live;
# - ?seconds=S ends the stream after S seconds with a valid pcap;
# - switching networkmode off ends a running pull;
# - a client that disconnects mid-stream is noticed: the service goes on,
#   a new pull works, and DELETE (which waits for every stream) finishes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" nm
api_start --mode ingress --filter "udp port 5555"
U=$API_URL/api/v1/captures/first

expect 409 GET /api/v1/captures/first/packets
expect 200 PUT /api/v1/captures/first/networkmode 'true'
size0=$(stat -c %s "$API_TMP/first.pcap")

# two clients at once
in_cap curl "${API_AUTH[@]}" -sf -N -o "$API_TMP/a.pcap" "$U/packets?count=300" &
pa=$!
in_cap "$API_BIN" pull first -w "$API_TMP/b.pcap" --count 300 2>"$API_TMP/b.err" &
pb=$!
wait_pulls 2
api_send 6666 100 100 2000 &
ps=$!
api_send 5555 300 200 2000
wait "$ps"
wait "$pa" || api_fail "curl pull failed"
wait "$pb" || api_fail "CLI pull failed: $(cat "$API_TMP/b.err")"
seqs_ok "$API_TMP/a.pcap" 5555 300
seqs_ok "$API_TMP/b.pcap" 5555 300
[ "$(pcap_count "$API_TMP/a.pcap")" = 300 ] || api_fail "curl pull: other packets too"
[ "$(pcap_count "$API_TMP/b.pcap")" = 300 ] || api_fail "CLI pull: other packets too"
tcpdump -nr "$API_TMP/a.pcap" >/dev/null 2>&1 || api_fail "tcpdump can't read the stream"
[ "$(stat -c %s "$API_TMP/first.pcap")" = "$size0" ] || api_fail "the local file grew in network mode"

# a live pipe into tcpdump (a new port: what the writer's backlog may
# replay from before is told apart)
expect 200 PUT /api/v1/captures/first/filter '"udp port 5556"'
in_cap bash -c "curl -sN -H '${API_AUTH[1]}' '$U/packets?seconds=4' | tcpdump -nr - 2>/dev/null" >"$API_TMP/live.txt" &
pl=$!
sleep 1.5
api_send 5556 20
wait "$pl" || api_fail "curl | tcpdump failed"
n=$(grep -c "\.5556: UDP" "$API_TMP/live.txt" || true)
[ "$n" = 20 ] || api_fail "curl | tcpdump -r - printed $n packets to 5556, want 20"

# ?seconds: ends by itself, with a valid (empty) pcap
t0=$(date +%s%N)
in_cap curl "${API_AUTH[@]}" -sf -o "$API_TMP/s.pcap" "$U/packets?seconds=2" || api_fail "seconds pull failed"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms >= 1900 && ms < 15000)) || api_fail "?seconds=2 took $ms ms"
seqs_ok "$API_TMP/s.pcap" 5557 0 # valid pcap, nothing new

# networkmode off ends a running pull (which had packets)
expect 200 PUT /api/v1/captures/first/filter '"udp port 5558"'
in_cap curl "${API_AUTH[@]}" -sf -N -o "$API_TMP/off.pcap" "$U/packets" &
po=$!
sleep 1.5
api_send 5558 5
sleep 1
expect 200 PUT /api/v1/captures/first/networkmode 'false'
for ((i = 0; i < 50; i++)); do kill -0 "$po" 2>/dev/null || break; sleep 0.1; done
kill -0 "$po" 2>/dev/null && api_fail "pull still running after networkmode off"
wait "$po" || api_fail "pull ended with an error when networkmode went off"
seqs_ok "$API_TMP/off.pcap" 5558 5

# a client that goes away mid-stream
expect 200 PUT /api/v1/captures/first/networkmode 'true'
in_cap curl "${API_AUTH[@]}" -s -N -o "$API_TMP/gone.pcap" "$U/packets" &
pg=$!
sleep 1.5
api_send 5558 50
sleep 0.5
kill -KILL "$pg"
wait "$pg" 2>/dev/null || true
api_send 5558 50 # the server notices on its next write
api_alive
in_cap "$API_BIN" pull first -w "$API_TMP/after.pcap" --count 10 &
pn=$!
sleep 1.5
api_send 5558 10
wait "$pn" || api_fail "pull after a disconnect failed"
[ "$(pcap_count "$API_TMP/after.pcap")" = 10 ] || api_fail "pull after a disconnect"
t0=$(date +%s%N)
expect 204 DELETE /api/v1/captures/first
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 20000)) || api_fail "DELETE took $ms ms: a stream was left behind"
api_alive
api_stop
echo PASS
