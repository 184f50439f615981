#!/bin/bash
# Network mode with no client connected: packets wait in the bounded backlog
# (--net-buffer); when it overflows the oldest are dropped and counted in
# stats.net_dropped, and the next pull gets exactly the newest ones:
# pulled + net_dropped = sent, and the pulled ones are the last, in order.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" bo
api_start --mode ingress --filter "udp port 5555" --snaplen 2000 --net-buffer 300000
U=$API_URL/api/v1/captures/first

expect 200 PUT /api/v1/captures/first/networkmode 'true'
N=1000
api_send 5555 $N 1000 2000 # ~1 MB of records through a 300 kB backlog
wait_stat first written $N 20
dropped=$(stat_of first net_dropped)
((dropped > 0)) || api_fail "no overflow counted (net_dropped $dropped)"
expect 200 GET /api/v1/captures/first
jeq .stats.net_dropped "$dropped"

in_cap curl "${API_AUTH[@]}" -sf -o "$API_TMP/backlog.pcap" "$U/packets?seconds=2" || api_fail "pull failed"
got=$(python3 "$API_DIR/pcap_seqs.py" "$API_TMP/backlog.pcap") || api_fail "bad pcap"
n=$(grep -c "^5555 " <<<"$got" || true)
((n > 0)) || api_fail "nothing left in the backlog"
((n + dropped == N)) || api_fail "pulled $n + dropped $dropped != sent $N"
want=$(seq $((N - n)) $((N - 1)) | sed 's/^/5555 /')
[ "$got" = "$want" ] || api_fail "the backlog does not hold the newest $n packets in order"
api_log "backlog kept $n of $N, dropped $dropped"
api_alive
api_stop
echo PASS
