#!/bin/bash
# start with filters libpcap refuses: non-zero exit, the message is
# libpcap's own (as tcpdump prints it for the same expression), no capture
# file, nothing left attached.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" ebf

for f in "udp port" "ip proto nosuchproto" "tcp port 99999" "ether host 1:2:3"; do
	# tcpdump -d compiles offline with libpcap and prints "tcpdump: <libpcap's message>"
	if tcpdump -d -y EN10MB "$f" >/dev/null 2>"$IT_TMP/td.err"; then
		it_fail "tcpdump accepts '$f': pick another bad filter"
	fi
	msg=$(sed -n 's/^tcpdump: //p' "$IT_TMP/td.err" | head -1)
	[ -n "$msg" ] || it_fail "no message from tcpdump for '$f': $(cat "$IT_TMP/td.err")"
	it_start_fails --iface "$NH_CAP_IF" --filter "$f" --dump "$IT_DUMP"
	grep -qF "$msg" "$IT_LOG" || it_fail "filter '$f': want libpcap's message '$msg'"
	[ ! -e "$IT_DUMP.pcap" ] || it_fail "a capture file was created"
	it_assert_nothing_attached "a refused filter"
	it_log "'$f' refused with libpcap's '$msg'"
done
it_pass "bad filters refused with libpcap's messages"
