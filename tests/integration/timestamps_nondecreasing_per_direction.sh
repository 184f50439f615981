#!/bin/bash
# Both directions at once: in the pcap the timestamps of each direction never
# go backwards, and each is wall-clock time within a second of the send.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" ts

it_start --mode bidirectional --filter udp
it_send_in --count 1500 --rate 1500 --tag 1 --expect "$IT_TMP/in.pcap" &
pin=$!
it_send_out --count 1500 --rate 1500 --tag 2 --expect "$IT_TMP/out.pcap"
wait $pin || it_fail "ingress sender failed"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" \
	--all-captured --no-other --ts-per-src --ts-near-sent 1 \
	--min-from "$NH_PEER_MAC=1500" --min-from "$NH_CAP_MAC=1500"
it_pass "timestamps non-decreasing per direction, near the send times"
