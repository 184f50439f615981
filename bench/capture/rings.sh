#!/bin/bash
# Per-CPU ring buffers, measured: the appliance's ring-buffer ingress paths
# with 1 and 2 generator threads (= RX queues on veth: the sending CPU picks
# the queue) on a 2-queue veth whose capture end has no address, for one or
# more appliance binaries (e.g. before and after a change), interleaved.
#
#   bench/capture/rings.sh [--reps N] [--count N] [--paths ringbuf,transparent]
#                          NAME=BINARY...
#
# Prints one line per point and writes JSON lines to $OUT (default
# /tmp/bn-rings.jsonl). Root; namespaces bn<pid>r{c,p}, removed on exit.
set -uo pipefail
BC_DIR=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$BC_DIR/../..")
REPS=3 COUNT=4000000 PATHS=ringbuf OUT=${OUT:-/tmp/bn-rings.jsonl}
BUILD=${BUILD:-$ROOT/build}
while [ $# -gt 0 ]; do
	case $1 in
	--reps) REPS=$2; shift 2 ;;
	--count) COUNT=$2; shift 2 ;;
	--paths) PATHS=$2; shift 2 ;;
	*=*) break ;;
	*) echo "rings.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: rings.sh [options] NAME=BINARY..." >&2; exit 2; }
# shellcheck source=scripts/netns/lib.sh
source "$ROOT/scripts/netns/lib.sh"
# shellcheck source=bench/capture/lib.sh
source "$BC_DIR/lib.sh"
BC_WORK=$(mktemp -d /tmp/bn-rings.XXXXXX)
nh_cleanup_add "rm -rf '$BC_WORK'"
nh_cleanup_add "bc_stop cap KILL"
nh_cleanup_trap
id="bn$(($$ % 100000))r"
nh_up "$id" --queues 2 >/dev/null || exit 1
# a capture port: no address, so auto would pick a capture-port path
ip -n "$NH_CAP_NS" addr flush dev "$NH_CAP_IF"
PKTGEN=$BUILD/bench/pktgen/bn-pktgen
: >"$OUT"
for ((rep = 1; rep <= REPS; rep++)); do
	for threads in 1 2; do
		for path in ${PATHS//,/ }; do
			for nb in "$@"; do
				name=${nb%%=*} bin=${nb#*=}
				file=$BC_WORK/cap.pcap
				rm -f "$file" "$BC_WORK/gen.json"
				load=$(cut -d' ' -f1 /proc/loadavg)
				bc_bg cap ip netns exec "$NH_CAP_NS" chrt -f 20 "$bin" start \
					--iface "$NH_CAP_IF" --mode ingress --filter udp --snaplen 64 \
					--dump "${file%.pcap}" --ingress-path "$path" --listen off
				bc_wait_ready cap 'capture [^ ]+ on [^ ]+: XDP' 30 || { bc_reason cap; exit 1; }
				sleep 0.5
				cpus=1
				((threads == 2)) && cpus=0,1
				ip netns exec "$NH_PEER_NS" chrt -f 10 "$PKTGEN" --iface "$NH_PEER_IF" \
					--count "$COUNT" --size 64 --threads "$threads" --cpus "$cpus" \
					--flows 16 --json >"$BC_WORK/gen.json" 2>/dev/null
				bc_wait_file_settled "$file"
				bc_stop cap INT
				cap=$(bc_count_pcap "$file")
				cpu=$(bc_cpu_seconds cap)
				python3 - "$name" "$path" "$threads" "$rep" "$cap" "$cpu" "$load" \
					"$BC_WORK/gen.json" <<'PY' | tee -a "$OUT"
import json, sys
name, path, threads, rep, cap, cpu, load, gen = sys.argv[1:]
g = json.load(open(gen))
s = g.get("seconds") or 1
print(json.dumps(dict(build=name, path=path, threads=int(threads), rep=int(rep),
    offered=g["sent"], offered_pps=g["rate_pps"], captured=int(cap),
    captured_pps=int(cap) / s, loss_pct=100.0 * (g["sent"] - int(cap)) / g["sent"],
    cpu_s=float(cpu or 0), loadavg=float(load))))
PY
			done
		done
	done
done
