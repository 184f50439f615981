#!/bin/bash
# Time order: on a 4-queue veth (a worker and a writer stream per queue)
# capturing both directions (egress through the ring buffer: one more
# stream), every record in the file comes in non-decreasing timestamp
# order and none is counted late; all frames are there. The same run with
# --reorder-window 0 (each stream's own order only) is shown to have
# records out of order, so the check can fail.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" to --queues 4

run() # WINDOW_MS: capture, send both ways at once, count disorder
{
	it_start --name cap --mode bidirectional --filter udp --ingress-path afxdp \
		--reorder-window "$1"
	it_send_in --count 3000 --rate 3000 --flows 64 --tag 1 --expect "$IT_TMP/in.pcap" &
	local in=$!
	it_send_out --count 1500 --rate 1500 --tag 2 --expect "$IT_TMP/out.pcap"
	wait "$in"
	sleep 1.5
	it_rest GET /api/v1/captures/cap/stats
	LATE=$(jq -r .late <<<"$IT_BODY")
	it_stop
	it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --expect "$IT_TMP/out.pcap" \
		--all-captured --count 4500
	DISORDER=$(python3 - "$IT_DUMP.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, last, back = 24, 0, 0
while off < len(d):
    s, ns, incl, _ = struct.unpack("<IIII", d[off:off + 16])
    t = s * 1000000000 + ns
    back += t < last
    last = max(last, t)
    off += 16 + incl
print(back)
PY
)
	it_log "window $1 ms: $DISORDER records earlier than one before them, late $LATE"
}

run 1000 # wide: 4 workers, egress, writer and 2 senders share 2 CPUs
[ "$DISORDER" = 0 ] || it_fail "$DISORDER records out of time order with the merge"
[ "$LATE" = 0 ] || it_fail "$LATE records counted late"
run 0
((DISORDER > 0)) || it_fail "without the merge the file was in order too: the check proves nothing"
it_pass "4 queues + egress: 4500 records in time order with the merge (without it: $DISORDER out of order)"
