#!/bin/bash
# SIGKILL leaves the programs on the interface (nobody detached them). A new
# appliance on that interface finds and removes them, says so, captures
# normally, and after SIGINT leaves nothing behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" kl

it_start --mode bidirectional --filter udp
it_send_in --count 100 --tag 1
it_stop KILL
a=$(it_attached)
it_log "after SIGKILL: attached '$a'"
[ -n "$a" ] || it_fail "nothing left after SIGKILL: the restart check below would prove nothing"

it_start --mode bidirectional --filter udp
grep -Ei "leftover|stale|previous|earlier" "$IT_LOG" ||
	it_fail "restart did not say it found and removed the earlier run's leftovers"
a=$(it_attached)
[[ $a == *xdp* && $a == *tc-egress* ]] || it_fail "after restart, want XDP and TC egress attached, got '$a'"
[ "$(tc -n "$NH_CAP_NS" filter show dev "$NH_CAP_IF" egress | grep -c "bpf.*id")" -eq 1 ] ||
	it_fail "more than one TC egress program after restart:
$(tc -n "$NH_CAP_NS" filter show dev "$NH_CAP_IF" egress)"
it_send_in --count 300 --tag 2 --expect "$IT_TMP/in.pcap"
it_send_out --count 300 --tag 3 --expect "$IT_TMP/out.pcap"
it_stop
it_assert_nothing_attached "SIGKILL, restart and SIGINT"
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" \
	--all-captured --no-other --count 600
it_pass "leftovers found and removed; restart captured all 600 frames"
