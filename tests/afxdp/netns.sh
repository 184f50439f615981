# SPDX-License-Identifier: BSD-2-Clause
# Sourced by run_capture.sh and run_mq.sh: builds two netns ($ns, the
# capture side, and $pns, the sender) joined by a veth with 4 RX/TX queues
# ($a in $ns, $b in $pns), addresses $net.1 and $net.2, and a temporary
# directory $out; all removed on exit. Before sourcing, set:
#   tag    netns name part (dpb-$tag-ID, dpb-${tag}p-ID)
#   ltag   one-letter veth name part (dpb${ltag}IDa, dpb${ltag}IDb)
#   net    first three octets of the /24 (e.g. 10.77.0)
id="$$$RANDOM"
id=${id:0:8}
ns=dpb-$tag-$id pns=dpb-${tag}p-$id
a=dpb${ltag}${id}a b=dpb${ltag}${id}b
out=$(mktemp -d "/tmp/dpb-$tag.XXXXXX")

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
ip -n "$ns" addr add "$net.1/24" dev "$a"
ip -n "$pns" addr add "$net.2/24" dev "$b"
ip -n "$ns" link set "$a" up
ip -n "$pns" link set "$b" up
ip -n "$ns" link set lo up
# No ARP on the way: the capture side's MAC is known to the sender.
mac=$(ip -n "$ns" -o link show "$a" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$pns" neigh replace "$net.1" lladdr "$mac" dev "$b" nud permanent
