#!/bin/bash
# --ingress-path auto (the default) decides by what the interface is.
# host: the capture veth has an IPv4 address; with default options and
#   filter icmp the peer's pings are all answered while every request and
#   reply is captured; the log and GET .../NAME say "transparent" and why.
# port: the capture veth has no address, no master, no default route: a
#   capture port; veth has no AF_XDP zero-copy, so the ring-buffer path is
#   chosen (log and GET say so) and every matching frame is captured.
# master: the same veth without an address but enslaved to a bridge is a
#   host interface again (transparent).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" ia
mode=$2

ingress_is() # PATH: GET .../NAME says PATH; prints the reason
{
	it_rest GET "/api/v1/captures/$NH_CAP_IF"
	[ "$IT_HTTP" = 200 ] || it_fail "GET: $IT_HTTP $IT_BODY"
	local got
	got=$(jq -r .ingress_path <<<"$IT_BODY")
	[ "$got" = "$1" ] || it_fail "ingress_path: want $1, got $got ($IT_BODY)"
	it_log "ingress_path $got: $(jq -r .ingress_reason <<<"$IT_BODY")"
}

case $mode in
host)
	it_start --filter icmp
	grep -q "transparent: every frame goes on" "$IT_LOG" ||
		it_fail "the log does not say the transparent path was chosen"
	grep -q "has the address $NH_CAP_IP" "$IT_LOG" || it_fail "the log does not say why"
	! grep -qi warning "$IT_LOG" || it_fail "warned: $(grep -i warning "$IT_LOG")"
	ingress_is transparent
	jq -e '.transparent == true' <<<"$IT_BODY" >/dev/null || it_fail "transparent is not true"
	it_peer ping -c 20 -i 0.05 -W 1 "$NH_CAP_IP" >"$IT_TMP/ping.log" ||
		it_fail "pings not answered while captured: $(tail -3 "$IT_TMP/ping.log")"
	grep -q " 0% packet loss" "$IT_TMP/ping.log" || it_fail "ping lost packets"
	it_stop
	req=$(tcpdump -nn -r "$IT_DUMP.pcap" "icmp[icmptype] == icmp-echo" 2>/dev/null | wc -l)
	rep=$(tcpdump -nn -r "$IT_DUMP.pcap" "icmp[icmptype] == icmp-echoreply" 2>/dev/null | wc -l)
	[ "$req" -eq 20 ] && [ "$rep" -eq 20 ] || it_fail "captured $req requests, $rep replies"
	it_pass "host interface: transparent, 20/20 pings answered and captured both ways"
	;;
port)
	it_cap ip addr flush dev "$NH_CAP_IF"
	it_start --mode ingress --filter "udp dst port 7777"
	grep -q "ringbuf path, frames consumed" "$IT_LOG" ||
		it_fail "the log does not say the ring-buffer path was chosen"
	grep -q "without AF_XDP zero-copy" "$IT_LOG" || it_fail "the log does not say why"
	ingress_is ringbuf
	it_send_in --count 300 --tag 1 --expect "$IT_TMP/in.pcap"
	it_stop
	it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --count 300
	it_pass "capture port: ring-buffer path (no zero-copy on veth), 300/300 captured"
	;;
master)
	it_cap ip addr flush dev "$NH_CAP_IF"
	it_cap ip link add "${IT_ID}br" type bridge
	it_cap ip link set "$NH_CAP_IF" master "${IT_ID}br"
	it_start --filter icmp
	grep -q "is a port of ${IT_ID}br" "$IT_LOG" || it_fail "the log does not name the bridge"
	ingress_is transparent
	it_stop
	it_pass "bridge port: transparent"
	;;
*) it_fail "usage: $0 BIN host|port|master" ;;
esac
