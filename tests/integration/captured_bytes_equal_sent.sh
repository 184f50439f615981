#!/bin/bash
# Both directions, every frame size from the smallest to a full 1514-byte
# frame: each record's bytes and wire length equal the frame sent, and the
# appliance's byte counter covers exactly those records.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" by

sizes=52,60,61,64,100,127,128,255,256,511,512,999,1000,1499,1513,1514
it_start --mode bidirectional --filter udp
it_send_in --count 320 --rate 2000 --sizes $sizes --tag 1 --expect "$IT_TMP/in.pcap"
it_send_out --count 320 --rate 2000 --sizes $sizes --tag 2 --expect "$IT_TMP/out.pcap"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" \
	--all-captured --no-other --snaplen 262144
sent_bytes=$(( $(stat -c %s "$IT_TMP/in.pcap") + $(stat -c %s "$IT_TMP/out.pcap") - 2 * 24 - 640 * 16 ))
file_bytes=$(( $(stat -c %s "$IT_DUMP.pcap") - 24 - 640 * 16 ))
[ "$file_bytes" -eq "$sent_bytes" ] || it_fail "pcap holds $file_bytes packet bytes, sent $sent_bytes"
it_pass "640 frames, $sent_bytes bytes, identical"
