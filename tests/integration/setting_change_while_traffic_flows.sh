#!/bin/bash
# Mode and snaplen changed over REST (PUT on the field) while traffic flows,
# without restarting anything (argument 2: "mode" or "snaplen"):
#  mode: ingress -> bidirectional: no ingress frame lost across the change,
#        egress frames captured from one point on, without gaps after it;
#  snaplen: 262144 -> 64: no frame lost, frames whole up to one point, cut
#        to 64 (wire length kept) from there on.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
what=$2
it_init "$1" "c${what:0:3}"

if [ "$what" = mode ]; then
	it_start --name cap --mode ingress --filter udp
else
	it_start --name cap --mode bidirectional --filter udp
fi
it_send_in --count 60000 --rate 1000 --sizes 128,1514 --tag 1 --expect "$IT_TMP/in.pcap" \
	--started "$IT_TMP/s1" --stop-file "$IT_TMP/stop" &
pi=$!
it_send_out --count 60000 --rate 1000 --sizes 128,1514 --tag 2 --expect "$IT_TMP/out.pcap" \
	--started "$IT_TMP/s2" --stop-file "$IT_TMP/stop" &
po=$!
it_wait_file "$IT_TMP/s1" "$IT_TMP/s2"
sleep 1
if [ "$what" = mode ]; then
	it_rest PUT /api/v1/captures/cap/capture '"bidirectional"'
else
	it_rest PUT /api/v1/captures/cap/snaplen '64'
fi
[ "$IT_HTTP" = 200 ] || [ "$IT_HTTP" = 204 ] || it_fail "PUT $what: HTTP $IT_HTTP: $IT_BODY"
sleep 1
touch "$IT_TMP/stop" # senders run until 1 s after the change, however long it took
wait $pi || it_fail "ingress sender failed"
wait $po || it_fail "egress sender failed"
it_stop
if [ "$what" = mode ]; then
	it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured
	it_check "$IT_DUMP.pcap" --expect "$IT_TMP/out.pcap" --tag-suffix 2 --no-dup
else
	it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --snaplen-switch 64
	it_check "$IT_DUMP.pcap" --expect "$IT_TMP/out.pcap" --all-captured --snaplen-switch 64
fi
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" --no-other
grep -qi "leftover\|restart" "$IT_LOG" && it_fail "the change restarted something: $(grep -i "leftover\|restart" "$IT_LOG")"
it_pass "$what changed under traffic without loss"
