#!/bin/bash
# The counters printed at exit add up: every matched frame is written or
# counted as dropped; matched equals the frames sent that the filter
# accepts, written equals the records in the file, seen >= matched, and
# the appliance does not complain about its own sums.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" cnt

it_start --mode bidirectional --filter "udp dst port 7777"
it_send_in --count 700 --rate 3000 --tag 1 --expect "$IT_TMP/in.pcap"
it_send_in --count 100 --rate 3000 --tag 4 --dport 9 # not matched, only seen
it_send_out --count 300 --rate 3000 --tag 2 --expect "$IT_TMP/out.pcap"
it_send_out --count 50 --rate 3000 --tag 5 --dport 9 # not matched, only seen
it_stop
grep " final " "$IT_LOG" || it_fail "no final counters printed at exit"
seen=$(it_final_counter seen)
matched=$(it_final_counter matched)
written=$(it_final_counter written)
dropped=$(it_final_counter dropped)
bytes=$(it_final_counter bytes)
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" \
	--all-captured --no-other
records=$(it_records "$IT_DUMP.pcap")
[ "$matched" -eq $((written + dropped)) ] ||
	it_fail "matched $matched != written $written + dropped $dropped"
[ "$matched" -eq 1000 ] || it_fail "matched $matched, sent 1000 frames the filter accepts"
[ "$written" -eq "$records" ] || it_fail "written $written, but the file has $records records"
[ "$seen" -ge 1150 ] || it_fail "seen $seen, sent 1150 frames"
file_bytes=$(($(stat -c %s "$IT_DUMP.pcap") - 24))
[ "$bytes" -eq "$file_bytes" ] || [ "$bytes" -eq $((file_bytes + 24)) ] ||
	[ "$bytes" -eq $((file_bytes - records * 16)) ] ||
	it_fail "bytes $bytes fits neither the file ($file_bytes record bytes) nor its packet bytes"
! grep -qi "don't add up" "$IT_LOG" || it_fail "the appliance reports its counters don't add up"
it_pass "seen $seen matched $matched = written $written + dropped $dropped"
