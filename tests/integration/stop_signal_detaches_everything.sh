#!/bin/bash
# SIGINT, SIGTERM, SIGHUP (terminal closed) or SIGQUIT (argument 2:
# INT|TERM|HUP|QUIT) while capturing both directions:
# exit status 0, every frame taken is in the file, and no XDP program and no
# TC filter is left on the interface.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sig=${2:-INT}
it_init "$1" "s${sig,,}"

it_start --mode bidirectional --filter udp
a=$(it_attached)
[[ $a == *xdp* && $a == *tc-egress* ]] || it_fail "while running, want XDP and TC egress attached, got '$a'"
it_send_in --count 500 --rate 5000 --tag 1 --expect "$IT_TMP/in.pcap"
it_send_out --count 500 --rate 5000 --tag 2 --expect "$IT_TMP/out.pcap"
it_stop "$sig"
it_assert_nothing_attached "SIG$sig"
grep -q "ca_xdp\|ca_egress" <(ip netns exec "$NH_CAP_NS" bpftool net show dev "$NH_CAP_IF" 2>&1) &&
	it_fail "bpftool still shows the appliance's programs on $NH_CAP_IF"
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" \
	--all-captured --no-other
it_pass "SIG$sig: clean exit, nothing attached, all 1000 frames written"
