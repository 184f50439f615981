#!/bin/bash
# The Python demo client (api/client/client.py, standard library only):
# `python3 client.py <IPv4> <file>` finds the capture in network mode (or
# the only one) by itself and writes the packets sent, in order; --name/--count/--seconds
# work; stopped mid-stream (SIGTERM) the file still holds only whole
# records; with networkmode off it fails with the server's message.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" py
api_start --mode ingress --filter "udp port 5555"
CLIENT=$API_SRC/api/client/client.py
py() { ip netns exec "$NH_CAP_NS" python3 "$CLIENT" "$@"; }

rc=0
py 127.0.0.1 "$API_TMP/no.pcap" 2>"$API_TMP/err" || rc=$?
[ "$rc" = 1 ] || api_fail "client without network mode: exit $rc"
grep -q "networkmode is false" "$API_TMP/err" || api_fail "$(cat "$API_TMP/err")"
rc=0
py 127.0.0.1 "$API_TMP/no.pcap" --name first 2>"$API_TMP/err" || rc=$?
[ "$rc" = 1 ] || api_fail "client with networkmode false: exit $rc"
grep -q "networkmode is false" "$API_TMP/err" || api_fail "$(cat "$API_TMP/err")"
rc=0
py not-an-ip "$API_TMP/no.pcap" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || api_fail "a bad address: exit $rc"

expect 200 PUT /api/v1/captures/first/networkmode 'true'
# the seed's form: address and file only
py 127.0.0.1 "$API_TMP/a.pcap" --count 100 2>"$API_TMP/a.err" &
pa=$!
sleep 2
api_send 5555 100
wait "$pa" || api_fail "client failed: $(cat "$API_TMP/a.err")"
seqs_ok "$API_TMP/a.pcap" 5555 100
grep -q "100 packets written" "$API_TMP/a.err" || api_fail "$(cat "$API_TMP/a.err")"

# stopped mid-stream: whole records only (a new port tells them apart from
# what the backlog may replay)
expect 200 PUT /api/v1/captures/first/filter '"udp port 5556"'
ip netns exec "$NH_CAP_NS" python3 "$CLIENT" 127.0.0.1 "$API_TMP/b.pcap" --name first \
	--port 9000 2>"$API_TMP/b.err" &
pb=$!
sleep 2
api_send 5556 30 1400
sleep 1
kill -TERM "$pb"
wait "$pb" || api_fail "client stopped with an error: $(cat "$API_TMP/b.err")"
seqs_ok "$API_TMP/b.pcap" 5556 30

# --seconds ends a quiet pull with a valid file
py 127.0.0.1 "$API_TMP/c.pcap" --name first --seconds 2 2>/dev/null || api_fail "--seconds"
python3 "$API_DIR/pcap_seqs.py" "$API_TMP/c.pcap" >/dev/null || api_fail "--seconds: bad pcap"
api_alive
api_stop
echo PASS
