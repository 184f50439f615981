#!/bin/bash
# Proves what bn-pktgen promises, on a veth pair in namespaces of our own:
#   exact counts (paced frame by frame, paced in bursts, as fast as it can),
#   the frame size on the wire, --threads splitting the count, --pcap replay
#   sending every usable frame of a file once.
# The receiving side is bn-xdpsink (XDP_DROP, counted per RX queue).
# Usage: test_pktgen.sh BUILD_DIR CORPUS_DIR
set -euo pipefail
BUILD=$1
CORPUS=$2
GEN=$BUILD/bench/pktgen/bn-pktgen
SINK=$BUILD/bench/pktgen/bn-xdpsink
ROOT=$(dirname "$(readlink -f "$0")")/../..
# shellcheck source=scripts/netns/lib.sh
source "$ROOT/scripts/netns/lib.sh"

ID="bnt$(($$ % 100000))"
SINK_PID=""
stop_sink()
{
	[ -n "$SINK_PID" ] || return 0
	kill -INT "$SINK_PID" 2>/dev/null || true
	wait "$SINK_PID" 2>/dev/null || true
	SINK_PID=""
}
nh_cleanup_add "stop_sink"
nh_cleanup_trap
nh_up "$ID" --queues 2 >/dev/null
W=$(mktemp -d)
nh_cleanup_add "rm -rf '$W'"

fail() { echo "FAIL: $*" >&2; exit 1; }

# run_case NAME EXPECT_PACKETS EXPECT_BYTES GEN_ARGS...: sink up, send, sink
# down; the sink must have seen exactly what the generator says it sent.
run_case()
{
	local name=$1 want=$2 want_bytes=$3 got bytes sent
	shift 3
	ip netns exec "$NH_CAP_NS" "$SINK" --iface "$NH_CAP_IF" --drop >"$W/sink.out" &
	SINK_PID=$!
	for _ in $(seq 100); do grep -q attached "$W/sink.out" && break; sleep 0.05; done
	grep -q attached "$W/sink.out" || fail "$name: sink did not attach"
	ip netns exec "$NH_PEER_NS" "$GEN" --iface "$NH_PEER_IF" --json "$@" >"$W/gen.json" ||
		fail "$name: generator failed"
	stop_sink
	sent=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' "$W/gen.json")
	got=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$W/sink.out")
	bytes=$(sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' "$W/sink.out")
	[ "$sent" = "$want" ] || fail "$name: generator reports $sent sent, want $want"
	[ "$got" = "$want" ] || fail "$name: $got frames arrived, want $want"
	[ -z "$want_bytes" ] || [ "$bytes" = "$want_bytes" ] ||
		fail "$name: $bytes bytes arrived, want $want_bytes"
	echo "ok: $name ($got frames, $(sed -n 's/.*"rate_pps":\([0-9]*\).*/\1/p' "$W/gen.json") pps)"
}

run_case "frame by frame at 2000 pps" 500 $((500 * 64)) --count 500 --rate 2000
run_case "bursts at 200000 pps" 100000 $((100000 * 64)) --count 100000 --rate 200000
run_case "max rate, 60-byte frames" 300000 $((300000 * 60)) --count 300000 --size 60
run_case "max rate, 1514-byte frames, 8 flows" 100000 $((100000 * 1514)) --count 100000 --size 1514 --flows 8
run_case "two threads split the count" 100001 "" --count 100001 --threads 2

# --rate is honoured: 2000 frames at 4000 pps take about half a second
run_case "2000 frames at 4000 pps" 2000 "" --count 2000 --rate 4000
secs=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$W/gen.json")
awk -v s="$secs" 'BEGIN { exit !(s >= 0.45 && s < 10.0) }' || fail "2000 frames at 4000 pps took $secs s"
echo "ok: ... in $secs s"

# replay: every record of a capture that fits a live frame (14..1514 bytes
# captured), once. A small UDP capture without anomalies from the corpus.
PCAP=$CORPUS/pcaps/$(awk -F'\t' '$5 == "pcap" && $10 == "" && $4 >= 20 && $4 <= 400 &&
	$11 ~ /udp/ { print $1; exit }' "$CORPUS/pcaps/MANIFEST.tsv")
[ -f "$PCAP" ] || fail "no suitable capture in $CORPUS/pcaps"
want=$(python3 - "$PCAP" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off, n = 24, 0
while off + 16 <= len(d):
    caplen = struct.unpack(e + "I", d[off + 8:off + 12])[0]
    n += 14 <= caplen <= 1514
    off += 16 + caplen
print(n)
PY
)
[ "$want" -gt 0 ] || fail "no usable packets in $PCAP"
run_case "replay $(basename "$PCAP")" "$want" "" --pcap "$PCAP"
echo "PASS"
