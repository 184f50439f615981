#!/bin/bash
# The filter is changed over REST (PATCH) while two flows run: port 7777
# (matched by the old and the new filter) and port 7778 (new filter only).
# Nothing of 7777 is lost across the swap; 7778 is captured from one point
# on, without a gap after it; the appliance's workers keep running (same
# process, no restart message) and GET shows the new filter.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" fc

it_start --name cap --mode ingress --filter "udp dst port 7777"
it_send_in --count 60000 --rate 1000 --dport 7777 --tag 1 --expect "$IT_TMP/a.pcap" \
	--started "$IT_TMP/s1" --stop-file "$IT_TMP/stop" &
pa=$!
it_send_in --count 60000 --rate 1000 --dport 7778 --tag 2 --expect "$IT_TMP/b.pcap" \
	--started "$IT_TMP/s2" --stop-file "$IT_TMP/stop" &
pb=$!
it_wait_file "$IT_TMP/s1" "$IT_TMP/s2"
sleep 1
it_rest PATCH /api/v1/captures/cap '{"filter": "udp dst port 7777 or udp dst port 7778"}'
[ "$IT_HTTP" = 200 ] || it_fail "PATCH filter: HTTP $IT_HTTP: $IT_BODY"
sleep 0.5
it_rest GET /api/v1/captures/cap/filter
[ "$IT_HTTP" = 200 ] && [[ $IT_BODY == *"udp dst port 7777 or udp dst port 7778"* ]] ||
	it_fail "GET filter after PATCH: HTTP $IT_HTTP: $IT_BODY"
sleep 1
touch "$IT_TMP/stop" # senders run until 1 s after the change, however long it took
wait $pa || it_fail "sender a failed"
wait $pb || it_fail "sender b failed"
kill -0 "$IT_PID" || it_fail "appliance gone"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/a.pcap" --all-captured
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/b.pcap" --tag-suffix 2 --no-dup
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/a.pcap" --expect "$IT_TMP/b.pcap" --no-other
it_pass "filter swapped under traffic without loss"
