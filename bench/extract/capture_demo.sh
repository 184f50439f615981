#!/bin/bash
# The README's time-machine example, run for real: the appliance captures
# traffic of 2000 hosts (bn-pktgen on a veth pair: 1514-byte UDP frames from
# 10.1.x.y, the hosts in turn) into rotated files and indexes each file as
# it is sealed; then one host's packets over a 10-s window are extracted
# through the running appliance (`extract NAME`) and offline (`extract -r`),
# timed next to `tcpdump -r` of every file with the same expression
# (interleaved runs, medians). Prints the commands and the figures.
#
#   bench/extract/capture_demo.sh [--build DIR] [--seconds S] [--rate PPS] [--runs N]
#
# Root; namespaces bn<pid>x{c,p}, removed on exit; never touches eth0.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
BUILD=$ROOT/build SECONDS_=20 RATE=90000 RUNS=5
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$(readlink -f "$2"); shift 2 ;;
	--seconds) SECONDS_=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	*) echo "capture_demo.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "capture_demo.sh: run as root" >&2; exit 1; }
CA=$BUILD/cli/capture-appliance
PKTGEN=$BUILD/bench/pktgen/bn-pktgen
[ -x "$CA" ] && [ -x "$PKTGEN" ] || { echo "capture_demo.sh: build first ($CA, $PKTGEN)" >&2; exit 1; }
# shellcheck source=scripts/netns/lib.sh
source "$ROOT/scripts/netns/lib.sh"
W=$(mktemp -d /var/tmp/bn-demo.XXXXXX)
nh_cleanup_add "rm -rf '$W'"
nh_cleanup_trap
nh_up "bn$(($$ % 100000))x" >/dev/null || exit 1
ip -n "$NH_CAP_NS" addr flush dev "$NH_CAP_IF" # a capture port
log() { echo "[$(date -u +%T)] $*" >&2; }

H=10.1.3.232 # bn-pktgen's flow 1000 of 2000

SRV=http://127.0.0.1:9000
ip netns exec "$NH_CAP_NS" "$CA" start --iface "$NH_CAP_IF" --name span0 --filter all \
	--dump "$W/span0" --rotate-size 64M --listen 127.0.0.1:9000 --no-auth \
	--stats-interval 0 >"$W/appliance.log" 2>&1 &
PID=$!
nh_cleanup_add "kill -INT $PID 2>/dev/null; sleep 1; kill -KILL $PID 2>/dev/null"
for ((i = 0; i < 200; i++)); do
	grep -q "REST API on" "$W/appliance.log" && break
	sleep 0.05
done
grep -q "REST API on" "$W/appliance.log" || { cat "$W/appliance.log" >&2; exit 1; }
T0=$(date +%s.%N)
log "capturing $SECONDS_ s of replayed traffic at $RATE frames/s"
ip netns exec "$NH_PEER_NS" "$PKTGEN" --iface "$NH_PEER_IF" --size 1514 --flows 2000 \
	--rate "$RATE" --duration "$SECONDS_" --json >"$W/gen.json" 2>"$W/gen.err" ||
	{ cat "$W/gen.err" >&2; exit 1; }
# every sealed file indexed by the appliance (all but the live one)
for ((i = 0; i < 600; i++)); do
	n=$(compgen -G "$W/span0-*.pcap" | wc -l)
	x=$(compgen -G "$W/span0-*.pcap.idx" | wc -l || true)
	((x >= n - 1)) && break
	sleep 0.1
done
FILES=$(compgen -G "$W/span0-*.pcap" | sort)
NF=$(wc -l <<<"$FILES")
BYTES=$(xargs stat -c %s <<<"$FILES" | awk '{ s += $1 } END { print s }')
IDX=$(compgen -G "$W/span0-*.pcap.idx" | xargs -r stat -c %s | awk '{ s += $1 } END { print s + 0 }')
ST=$(ip netns exec "$NH_CAP_NS" "$CA" --server "$SRV" stats span0 --json)
log "captured: $NF files, $BYTES bytes; indexes $IDX bytes; $(jq -c '{seen, written, dropped}' <<<"$ST")"

# the window: 10 s from the middle of the capture
FROM=$(awk -v t="$T0" -v s="$SECONDS_" 'BEGIN { printf "%d", t + s / 2 }')
TO=$((FROM + 10))
FROM3339=$(date -u -d "@$FROM" +%FT%TZ)
TO3339=$(date -u -d "@$TO" +%FT%TZ)
EXPR="host $H"

# the files were written with O_DIRECT: read them once, so every run below
# finds them in the page cache (as a just-captured file usually is)
cat $FILES >/dev/null
t_now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
daemon=() offline=() tcpd=()
for ((r = 1; r <= RUNS; r++)); do
	a=$(t_now)
	ip netns exec "$NH_CAP_NS" "$CA" --server "$SRV" extract span0 --from "$FROM3339" \
		--to "$TO3339" -w "$W/daemon.pcap" "$EXPR" 2>/dev/null
	b=$(t_now)
	"$CA" extract --from "$FROM3339" --to "$TO3339" -r "$W/span0" -w "$W/offline.pcap" "$EXPR"
	c=$(t_now)
	for f in $FILES; do tcpdump -r "$f" -w - "$EXPR" 2>/dev/null; done >/dev/null
	d=$(t_now)
	daemon+=("$(el "$a" "$b")") offline+=("$(el "$b" "$c")") tcpd+=("$(el "$c" "$d")")
	log "run $r: extract span0 ${daemon[-1]} s, extract -r ${offline[-1]} s, tcpdump -r every file ${tcpd[-1]} s"
done
cmp -s "$W/daemon.pcap" "$W/offline.pcap" || { echo "daemon and offline answers differ" >&2; exit 1; }
N=$(tcpdump -r "$W/daemon.pcap" 2>/dev/null | wc -l)
# the same answer from tcpdump: every file with the expression, then the window
W_TCPDUMP=$(for f in $FILES; do tcpdump -r "$f" -tt -n "$EXPR" 2>/dev/null; done |
	awk -v f="$FROM" -v t="$TO" '$1 >= f && $1 < t' | wc -l)
[ "$N" = "$W_TCPDUMP" ] || { echo "extract: $N records, tcpdump -r + the window: $W_TCPDUMP" >&2; exit 1; }
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
MD=$(med "${daemon[@]}") MO=$(med "${offline[@]}") MT=$(med "${tcpd[@]}")
STATS=$("$CA" extract --stats --from "$FROM3339" --to "$TO3339" -r "$W/span0" "$EXPR" 2>&1 >/dev/null | tail -n1)
cat <<EOF
capture: $(jq -r .seconds "$W/gen.json") s of replayed traffic, $(jq -r .sent "$W/gen.json") frames offered; $NF files, $BYTES bytes (rotate 64M); indexes $IDX bytes ($(awk -v a="$IDX" -v b="$BYTES" 'BEGIN { printf "%.2f", 100 * a / b }') %)
counters: $(jq -c '{seen, matched, written, dropped}' <<<"$ST")
window: $FROM3339 .. $TO3339, expression '$EXPR': $N records (tcpdump -r + the window: $W_TCPDUMP)
median of $RUNS interleaved runs: extract span0 (through the appliance) $MD s, extract -r $MO s, tcpdump -r of every file $MT s ($(awk -v a="$MT" -v b="$MD" 'BEGIN { printf "%.0f", a / b }')x)
offline extract: $STATS
EOF
