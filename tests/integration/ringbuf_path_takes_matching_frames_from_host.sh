#!/bin/bash
# --ingress-path ringbuf (capture ports without AF_XDP zero-copy): the XDP
# program copies each matching frame, cut to the snaplen, into the BPF ring
# buffer and consumes it, so matching frames are captured exactly once and
# do not reach the host's stack; frames the filter does not match still
# do. The start-up log names the path, and the exit counters add up with
# nothing dropped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" rbp

it_start --mode ingress --filter "udp dst port 7777" --snaplen 64 --ingress-path ringbuf
grep -q "ingress via ring buffer (ringbuf path" "$IT_LOG" ||
	it_fail "the start-up log does not say the ringbuf path is in use"
grep -qi "warning.*$NH_CAP_IF" "$IT_LOG" ||
	it_fail "no start-up warning: the ringbuf path also takes frames from the host"
it_sink_start
it_send_in --count 400 --sizes 60,63,64,65,128,1514 --tag 1 --expect "$IT_TMP/in.pcap"
it_sink_stop
[ "$IT_SINK_GOT" -eq 0 ] || it_fail "the host's stack got $IT_SINK_GOT of the 400 captured frames"
# Not matched (port 7778): goes on to the host, and is not captured.
it_sink_start 7778
it_send_in --count 200 --tag 2 --dport 7778
it_sink_stop 7778
[ "$IT_SINK_GOT" -eq 200 ] || it_fail "unmatched frames: the host got $IT_SINK_GOT of 200"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --no-other --no-dup \
	--count 400 --snaplen 64
matched=$(it_final_counter matched)
written=$(it_final_counter written)
dropped=$(it_final_counter dropped)
seen=$(it_final_counter seen)
[ "$matched" -eq 400 ] || it_fail "matched $matched, sent 400 frames the filter accepts"
[ "$written" -eq 400 ] && [ "$dropped" -eq 0 ] ||
	it_fail "written $written dropped $dropped, expected 400 and 0"
[ "$seen" -ge 600 ] || it_fail "seen $seen, sent 600 frames"
! grep -qi "don't add up" "$IT_LOG" || it_fail "the appliance reports its counters don't add up"
it_pass "400 matching frames captured (cut to 64) and taken, 200 others passed"
