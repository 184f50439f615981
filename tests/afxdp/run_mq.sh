#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds two netns joined by a veth with 4 RX/TX queues and runs
# test_afxdp_mq on one end while send_udp.py sends from the other.
#   run_mq.sh TEST_BIN BPF_OBJ SEND_PY COUNT FLOWS SNAPLEN
set -euo pipefail
bin=$1 obj=$2 send=$3 count=$4 flows=$5 snaplen=$6
id="$$$RANDOM"
id=${id:0:8}
ns=dpb-mq-$id pns=dpb-mqp-$id
a=dpbq${id}a b=dpbq${id}b
out=$(mktemp -d /tmp/dpb-mq.XXXXXX)

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
ip -n "$ns" addr add 10.77.0.1/24 dev "$a"
ip -n "$pns" addr add 10.77.0.2/24 dev "$b"
ip -n "$ns" link set "$a" up
ip -n "$pns" link set "$b" up
ip -n "$ns" link set lo up
ip -n "$pns" link set lo up
# No ARP on the way: the capture side's MAC is known to the sender.
mac=$(ip -n "$ns" -o link show "$a" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$pns" neigh replace 10.77.0.1 lladdr "$mac" dev "$b" nud permanent

ip netns exec "$ns" "$bin" "$a" "$obj" "$out" "$count" "$flows" "$snaplen" \
	"ip netns exec $pns python3 $send 10.77.0.1 $count 40100 $flows"
