#!/bin/bash
# The default (AF_XDP) ingress path is for capture ports: matching frames
# are taken away from the host's stack (captured, not delivered), frames
# the filter does not match still reach the host, and a warning is printed
# at start because the interface has an IP address.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" ax

it_start --mode ingress --filter "udp dst port 7777" --ingress-path afxdp
grep -qi "warning.*$NH_CAP_IF" "$IT_LOG" || it_fail "no start-up warning about AF_XDP on an interface with addresses"
it_sink_start
it_send_in --count 300 --tag 1 --expect "$IT_TMP/in.pcap"
it_sink_stop
[ "$IT_SINK_GOT" -eq 0 ] || it_fail "the host's stack got $IT_SINK_GOT of the 300 frames AF_XDP captured"
# Not matched (port 7778 is outside the filter): goes on to the host.
it_sink_start 7778
it_send_in --count 200 --tag 2 --dport 7778
it_sink_stop 7778
[ "$IT_SINK_GOT" -eq 200 ] || it_fail "unmatched frames: the host got $IT_SINK_GOT of 200"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --no-other --count 300
it_pass "matching frames captured and taken, others passed"
