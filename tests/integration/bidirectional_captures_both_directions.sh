#!/bin/bash
# Mode bidirectional (the default mode): frames in both directions are in
# the pcap, ingress from the peer and egress both as raw frames and as UDP
# through the capture host's own stack.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" bi

it_start --filter udp   # mode left at its default: bidirectional
grep -q "mode bidirectional" "$IT_LOG" || it_fail "default mode is not bidirectional"
it_send_in --count 300 --tag 1 --expect "$IT_TMP/in.pcap"
it_send_out --count 200 --tag 2 --expect "$IT_TMP/out.pcap"
it_send_out_udp --count 100 --tag 3 --expect "$IT_TMP/udp.pcap"
it_stop
it_check "$IT_DUMP.pcap" --count 600 --min-from "$NH_PEER_MAC=300" --min-from "$NH_CAP_MAC=300"
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" --all-captured
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/udp.pcap" --headers payload --all-captured
it_pass "both directions captured"
