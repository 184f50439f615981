#!/bin/bash
# The test tools themselves, without the appliance: what send.py says it sent
# (both directions, raw frames and UDP through the stack) is exactly what
# tcpdump sees on the capture veth, and pcapcheck.py accepts it; pcapcheck
# rejects a wrong snaplen and a torn file. (Argument: unused binary path.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" tool

it_cap tcpdump --immediate-mode -B 16384 --time-stamp-precision=nano -i "$NH_CAP_IF" -U \
	-w "$IT_TMP/td.pcap" udp 2>"$IT_TMP/td.log" &
td=$!
for ((i = 0; i < 50; i++)); do grep -q listening "$IT_TMP/td.log" && break; sleep 0.1; done
it_send_in --count 300 --rate 500 --tag 1 --expect "$IT_TMP/in.pcap"
it_send_out --count 200 --rate 500 --tag 2 --expect "$IT_TMP/out.pcap"
it_send_out_udp --count 100 --rate 500 --tag 3 --flows 3 --expect "$IT_TMP/udp.pcap"
sleep 0.5
kill -TERM $td
wait $td || true
it_check "$IT_TMP/td.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" --all-captured
it_check "$IT_TMP/td.pcap" --expect "$IT_TMP/udp.pcap" --headers payload --all-captured
it_check "$IT_TMP/td.pcap" --count 600 --ts-per-src --ts-near-sent 1
# The checker must be able to fail.
if python3 "$IT_DIR/pcapcheck.py" "$IT_TMP/td.pcap" --snaplen 64 >/dev/null; then
	it_fail "pcapcheck accepted full-size records as snaplen 64"
fi
head -c -5 "$IT_TMP/td.pcap" >"$IT_TMP/torn.pcap"
if python3 "$IT_DIR/pcapcheck.py" "$IT_TMP/torn.pcap" >/dev/null; then
	it_fail "pcapcheck accepted a torn last record"
fi
if python3 "$IT_DIR/pcapcheck.py" "$IT_TMP/td.pcap" --expect "$IT_TMP/in.pcap" \
	--none-captured >/dev/null; then
	it_fail "pcapcheck --none-captured passed on a capture of those frames"
fi
it_pass "send.py, tcpdump and pcapcheck agree"
