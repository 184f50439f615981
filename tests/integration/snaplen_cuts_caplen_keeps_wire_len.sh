#!/bin/bash
# --snaplen 64: every record keeps min(wire length, 64) bytes (the first
# bytes of the frame), the record's wire length stays the frame's real
# length, and the file header says snaplen 64; in both directions.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" sn

it_start --mode bidirectional --filter udp --snaplen 64
it_send_in --count 300 --rate 2000 --sizes 60,63,64,65,128,1514 --tag 1 --expect "$IT_TMP/in.pcap"
it_send_out --count 300 --rate 2000 --sizes 60,63,64,65,128,1514 --tag 2 --expect "$IT_TMP/out.pcap"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" \
	--all-captured --no-other --snaplen 64
it_pass "600 records cut to 64 bytes with their wire lengths"
