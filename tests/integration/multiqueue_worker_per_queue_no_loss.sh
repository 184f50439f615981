#!/bin/bash
# A veth with 4 RX queues: the appliance runs one AF_XDP worker per queue
# (start-up line and REST stats say 4), frames spread over all 4 queues
# (veth's per-queue XDP counters) are each redirected to their queue's
# socket, and none is lost.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" mq --queues 4

it_start --name cap --mode ingress --filter udp --ingress-path afxdp
grep -q "4 queues" "$IT_LOG" || it_fail "start-up line does not report 4 queues"
it_rest GET /api/v1/captures/cap/stats
[[ $IT_BODY =~ \"queues\":[[:space:]]*4[,}] ]] || it_fail "REST stats: want queues 4: $IT_BODY"
it_send_in --count 4000 --rate 4000 --flows 64 --tag 1 --expect "$IT_TMP/in.pcap"
sleep 0.3
ethtool -S "$NH_CAP_IF" >/dev/null 2>&1 && it_fail "ethtool sees the test veth outside its namespace"
stats=$(it_cap ethtool -S "$NH_CAP_IF")
it_stop
for q in 0 1 2 3; do
	n=$(echo "$stats" | awk -v k="rx_queue_${q}_xdp_redirect:" '$1 == k {print $2}')
	[ -n "$n" ] || it_fail "no rx_queue_${q}_xdp_redirect in ethtool -S: $stats"
	it_log "queue $q: $n frames redirected to its AF_XDP socket"
	[ "$n" -gt 0 ] || it_fail "queue $q got no frames redirected (flows not spread, or no worker)"
done
[ "$(it_final_counter "redirect failed")" -eq 0 ] || it_fail "redirects failed (a queue without socket?)"
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --no-other --count 4000
it_pass "4 queues, 4 workers, 4000 of 4000 frames"
