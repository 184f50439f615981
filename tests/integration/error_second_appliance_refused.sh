#!/bin/bash
# A second appliance on an interface that one already holds is refused
# (non-zero exit, says so) and disturbs nothing, even with the same dump path
# (as two starts with the default dump path would have): the first keeps its
# programs and its file, with every frame sent before and after.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" e2nd

it_start --mode bidirectional --filter udp
first=$IT_PID
first_log=$IT_LOG
it_send_in --count 200 --tag 1 --expect "$IT_TMP/in1.pcap"
sleep 1.5 # the writer flushes at least once a second: these are in the file now
before=$(ip -n "$NH_CAP_NS" -d link show dev "$NH_CAP_IF" | grep -o "prog/xdp id [0-9]*")
it_start_fails --iface "$NH_CAP_IF" --filter udp --dump "$IT_DUMP" --listen 127.0.0.1:9001
grep -qi "already\|in use\|busy\|another\|held" "$IT_LOG" || it_fail "the refusal does not say the interface is taken"
after=$(ip -n "$NH_CAP_NS" -d link show dev "$NH_CAP_IF" | grep -o "prog/xdp id [0-9]*")
[ "$before" = "$after" ] || it_fail "XDP program changed: '$before' -> '$after'"
IT_PID=$first
IT_LOG=$first_log
it_send_in --count 300 --tag 3 --expect "$IT_TMP/in.pcap"
it_send_out --count 300 --tag 2 --expect "$IT_TMP/out.pcap"
it_stop
it_assert_nothing_attached "stopping the first appliance"
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in1.pcap" --expect "$IT_TMP/in.pcap" \
	--expect "$IT_TMP/out.pcap" --all-captured --no-other --count 800
it_pass "second appliance refused, first undisturbed"
