#!/bin/bash
# Egress TCP with the veth's TSO/GSO on: the TC program sees super-packets
# (longer than the MTU). Every one is captured with its true wire length
# (14 + its IPv4 total length), cut only at the snaplen, and together the
# records cover the whole 4 MB stream without a hole.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" gso

it_cap ethtool -K "$NH_CAP_IF" tso on gso on >/dev/null 2>&1 || true
it_start --mode egress --filter "tcp src port 45001" --snaplen 128
ip netns exec "$NH_PEER_NS" python3 "$IT_DIR/tcpflow.py" serve "$NH_PEER_IP" 5001 \
	>"$IT_TMP/serve.out" 2>&1 &
srv=$!
for ((i = 0; i < 100; i++)); do grep -q ready "$IT_TMP/serve.out" && break; sleep 0.1; done
grep -q ready "$IT_TMP/serve.out" || it_fail "TCP server not ready: $(cat "$IT_TMP/serve.out")"
it_cap python3 "$IT_DIR/tcpflow.py" send "$NH_PEER_IP" 5001 4194304 45001 ||
	it_fail "TCP transfer failed"
wait $srv || it_fail "TCP server failed: $(cat "$IT_TMP/serve.out")"
[ "$(tail -1 "$IT_TMP/serve.out")" = 4194304 ] || it_fail "server got $(tail -1 "$IT_TMP/serve.out") bytes"
sleep 0.5
it_stop
it_check "$IT_DUMP.pcap" --snaplen 128 --tcp-stream 45001=4194304
n=$(python3 "$IT_DIR/pcapcheck.py" "$IT_DUMP.pcap" --tcp-stream 45001=4194304 |
	sed -n 's/.*segments (\([0-9]*\) larger.*/\1/p')
[ "${n:-0}" -gt 0 ] || it_fail "no record longer than 1514: were GSO super-packets seen at all?"
it_pass "4 MB egress stream complete, $n GSO records with their true length"
