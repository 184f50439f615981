#!/bin/bash
# Egress at a modest rate: every frame the capture host sends out of the veth
# (raw frames and UDP through the host's own stack) is in the pcap exactly once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" eg

it_start --mode egress --filter "udp dst port 7777"
it_send_out --count 600 --rate 2000 --tag 1 --expect "$IT_TMP/raw.pcap"
it_send_out_udp --count 400 --rate 2000 --tag 2 --flows 4 --expect "$IT_TMP/udp.pcap"
it_stop
it_check "$IT_DUMP.pcap" --count 1000
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/raw.pcap" --all-captured
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/udp.pcap" --headers payload --all-captured
it_pass "1000 of 1000 egress frames captured"
