#!/bin/bash
# --transparent: capturing icmp while the peer pings the capture host, every
# ping is answered (no frame taken from the stack), and the pcap has every
# echo request (ingress) and reply (egress). Matching UDP frames also still
# reach a socket on the host while being captured, all of them. And no
# AF_XDP warning is printed (nothing is taken away).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" tr

it_start --transparent --mode bidirectional --filter "icmp or udp dst port 7777"
! grep -qi "warning" "$IT_LOG" || it_fail "warning printed in transparent mode: $(grep -i warning "$IT_LOG")"
it_peer ping -c 20 -i 0.05 -W 1 "$NH_CAP_IP" >"$IT_TMP/ping.log" ||
	it_fail "ping through the capture failed: $(tail -3 "$IT_TMP/ping.log")"
grep -q " 0% packet loss" "$IT_TMP/ping.log" || it_fail "ping lost packets: $(tail -2 "$IT_TMP/ping.log")"
it_sink_start
it_send_in --count 500 --rate 2000 --tag 1 --expect "$IT_TMP/in.pcap"
it_sink_stop
[ "$IT_SINK_GOT" -eq 500 ] || it_fail "the host's stack got $IT_SINK_GOT of 500 captured datagrams"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --count 540 --ts-per-src
req=$(tcpdump -nn -r "$IT_DUMP.pcap" "icmp[icmptype] == icmp-echo and src $NH_PEER_IP" 2>/dev/null | wc -l)
rep=$(tcpdump -nn -r "$IT_DUMP.pcap" "icmp[icmptype] == icmp-echoreply and src $NH_CAP_IP" 2>/dev/null | wc -l)
[ "$req" -eq 20 ] && [ "$rep" -eq 20 ] || it_fail "want 20 echo requests and 20 replies, got $req and $rep"
it_pass "ping answered 20/20 while captured; 500/500 UDP delivered and captured"
