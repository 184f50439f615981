#!/bin/bash
# Ingress at a modest rate: every frame sent into the capture veth is in the
# pcap exactly once, nothing else is, and the bytes are the bytes sent.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" in

it_start --mode ingress --filter "udp dst port 7777"
it_send_in --count 1000 --rate 2000 --expect "$IT_TMP/in.pcap"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --no-other --count 1000
it_pass "1000 of 1000 ingress frames captured, byte for byte"
