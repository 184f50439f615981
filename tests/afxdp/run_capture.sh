#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs test_capture on one end of a 4-queue veth between two netns; the
# traffic comes from the other end.
#   run_capture.sh TEST_BIN SEND_PY
set -euo pipefail
bin=$1 send=$2
id="$$$RANDOM"
id=${id:0:8}
ns=dpb-c-$id pns=dpb-cp-$id
a=dpbc${id}a b=dpbc${id}b
out=$(mktemp -d /tmp/dpb-cap.XXXXXX)

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$pns" 2>/dev/null || true
	rm -rf "$out"
}
trap cleanup EXIT INT TERM

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$ns"
ip netns add "$pns"
ip link add "$a" numrxqueues 4 numtxqueues 4 netns "$ns" type veth \
	peer name "$b" numrxqueues 4 numtxqueues 4 netns "$pns"
ip -n "$ns" addr add 10.77.1.1/24 dev "$a"
ip -n "$pns" addr add 10.77.1.2/24 dev "$b"
ip -n "$ns" link set "$a" up
ip -n "$pns" link set "$b" up
ip -n "$ns" link set lo up
mac=$(ip -n "$ns" -o link show "$a" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$pns" neigh replace 10.77.1.1 lladdr "$mac" dev "$b" nud permanent

# 2 flows (ports 40100, 40101), 100 ms pause per 200 (~2000/s) until the
# test creates $out/stop.
ip netns exec "$ns" "$bin" "$a" "$out" \
	"ip netns exec $pns python3 $send 10.77.1.1 0 40100 2 100 $out/stop" \
	"ip netns exec $pns python3 $send 10.77.1.1 100 40100 1"
