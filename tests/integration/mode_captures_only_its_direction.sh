#!/bin/bash
# --mode ingress captures only frames coming in, --mode egress only frames
# going out (argument 2: the mode), with traffic flowing both ways.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mode=$2
it_init "$1" "${mode:0:2}"

it_start --mode "$mode" --filter udp
it_send_in --count 300 --tag 1 --expect "$IT_TMP/in.pcap"
it_send_out --count 300 --tag 2 --expect "$IT_TMP/out.pcap"
it_send_out_udp --count 100 --tag 3 --expect "$IT_TMP/udp.pcap"
it_stop
if [ "$mode" = ingress ]; then
	it_check "$IT_DUMP.pcap" --count 300 --only-src "$NH_PEER_MAC" \
		--expect "$IT_TMP/in.pcap" --all-captured --no-other
else
	it_check "$IT_DUMP.pcap" --count 400 --only-src "$NH_CAP_MAC" \
		--expect "$IT_TMP/out.pcap" --all-captured
	it_check "$IT_DUMP.pcap" --expect "$IT_TMP/udp.pcap" --headers payload --all-captured
fi
it_pass "mode $mode: only its own direction"
