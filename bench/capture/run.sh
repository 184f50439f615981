#!/bin/bash
# The capture benchmark: the appliance next to tcpdump, netsniff-ng, xdpdump
# and an XDP_DROP ceiling, on the same veth pair, same traffic, same filter
# and snaplen. Writes results/latest.{json,md,png} (and points.jsonl).
#
#   bench/capture/run.sh [--quick|--full|--queues] [--build DIR] [--out DIR]
#                        [--tools LIST] [--reps N] [--count N]
#
#   --quick   (default) the lossless-rate search (64 B, udp, snaplen 64;
#             1514 B, udp, full snaplen, next to the disk's own write rate):
#             per tool the highest offered rate losing <= 0.1 %, 3 runs per
#             rate, medians, a max-rate probe + 2 bisection steps
#             (LL_STEPS=N: N steps; LL_SIZES="64" or "1514": one size only)
#   --full    the same search with 4 bisection steps, then sizes 64/1514 x
#             filters udp/long x snaplen 64/full at max rate, a rate sweep,
#             1/2/4 RX queues, the filter compiler benchmark
#   --profile the key point once per tool under "perf record -a -g";
#             writes results/profile-TOOL.txt (where the CPU time went)
#   --main-only  only the max-rate key point (64 B, udp, snaplen 64) x3
#   --queues  only --full's RX-queue scaling: 1, 2, 4 queues, one generator
#             thread per queue up to one per CPU (ceiling, appliance, tcpdump)
#   --index   issue 13: the lossless-rate search (1514 B, udp, full snaplen;
#             IX_SIZE/IX_SNAP/IX_STEPS/IX_ROUNDS/LL_COUNT/BC_ROTATE_SIZE) for
#             the appliance rotating small files with indexing on, off
#             (start --no-index), and on with an extraction looping against
#             the daemon; variants interleaved, IX_ROUNDS rounds; writes
#             results/index.md (index_report.py)
#   --wbuf    issue 11: 1514 B, full snaplen, the default appliance with
#             writer pools of WB_SIZES MiB (16 64 256) at fixed rates
#             WB_LADDER, WB_REPS rounds side by side; writes results/wbuf.md
#   --tools   comma list from: ceiling,appliance,appliance-host,appliance-afxdp,
#             appliance-ringbuf,appliance-transparent,appliance-bidir,tcpdump,
#             netsniff-ng,xdpdump (default: all but appliance-bidir and xdpdump)
#
# Run as root. Everything happens in namespaces named bn<pid>q<N>{c,p},
# removed on exit; eth0 is never touched.
set -uo pipefail

BC_DIR=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$BC_DIR/../..")
MODE=quick
BUILD=${BUILD:-$ROOT/build-bench}
OUT=$BC_DIR/results
TOOLS=ceiling,appliance,appliance-host,appliance-afxdp,appliance-ringbuf,appliance-transparent,tcpdump,netsniff-ng
REPS=""
COUNT=""
MAIN_ONLY=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) MODE=quick ;;
	--profile) MODE=profile ;;
	--main-only) MAIN_ONLY=1 ;;
	--index) MODE=index ;;
	--wbuf) MODE=wbuf ;;
	--full) MODE=full ;;
	--queues) MODE=queues ;;
	--build) BUILD=$(readlink -f "$2"); shift ;;
	--out) OUT=$2; shift ;;
	--tools) TOOLS=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--count) COUNT=$2; shift ;;
	-h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root" >&2; exit 1; }

# shellcheck source=scripts/netns/lib.sh
source "$ROOT/scripts/netns/lib.sh"
# shellcheck source=bench/capture/lib.sh
source "$BC_DIR/lib.sh"
# shellcheck source=bench/capture/point.sh
source "$BC_DIR/point.sh"

BC_WORK=$(mktemp -d "${TMPDIR:-/tmp}/bn-bench.XXXXXX")
# points go straight to OUT, so an interrupted run still leaves them there
mkdir -p "$OUT" || exit 1
BC_POINTS=$OUT/points.jsonl
[ "$MODE" = profile ] && BC_POINTS=$BC_WORK/points.jsonl
: >"$BC_POINTS"
BC_PKTGEN=$BUILD/bench/pktgen/bn-pktgen
BC_SINK=$BUILD/bench/pktgen/bn-xdpsink
BC_APPLIANCE=$BUILD/cli/capture-appliance
BC_APPLIANCE_READY='capture [^ ]+ on [^ ]+: XDP'
# Same priority for every tool and the generator. The machine is shared:
# BC_SCHED=rt (SCHED_FIFO 10) keeps other people's jobs from skewing a run
# (the kernel still leaves them 5 % of each CPU); default nice -10.
BC_SCHED=${BC_SCHED:-nice}
# Under rt the tools get a higher priority than the generator: the generator
# plays the network, it must not take CPU from the capture host (it would
# starve every tool as soon as they share a CPU, as with several queues).
if [ "$BC_SCHED" = rt ]; then
	BC_PRIO=(chrt -f 10)
	BC_PRIO_TOOL=(chrt -f 20)
else
	BC_PRIO=(nice -n "${BC_NICE:--10}")
	BC_PRIO_TOOL=("${BC_PRIO[@]}")
fi
# The generator, and with it the veth's receive softirq (which runs on the
# sending CPU), on one CPU; the capture tools on the other. The appliance pins
# its queue-0 worker to CPU 0 itself, so the tools get CPU 0.
BC_GEN_CPU=${BC_GEN_CPU:-1}
BC_TOOL_CPUS=${BC_TOOL_CPUS-0}
BC_TCPDUMP_BUF_KB=${BC_TCPDUMP_BUF_KB:-65536}
BC_NETSNIFF_RING=${BC_NETSNIFF_RING:-64MiB}
BC_FLOWS=${BC_FLOWS:-16}
BC_APPLIANCE_ARGS=${BC_APPLIANCE_ARGS:-} # extra "start" options, for experiments
# BC_SPINPOLL=1: the appliance runs with libbn-spinpoll.so preloaded (its
# AF_XDP workers spin before sleeping in poll); an experiment, see README.
BC_SPINPOLL=${BC_SPINPOLL:-}
BC_QUEUES=1
LONG_FILTER='udp and dst port 9 and src net 10.1.0.0/16 and dst host 10.2.0.1 and not ip multicast and greater 40'

nh_cleanup_add "rm -rf '$BC_WORK'"
# stop what we started (by PID) before the namespaces go
nh_cleanup_add "bc_stop query KILL; bc_stop cap KILL; bc_stop sink KILL"
nh_cleanup_trap

echo "bench: building into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
	cmake --build "$BUILD" -j2 --target bn-pktgen bn-xdpsink >/dev/null ||
	{ echo "bench: can't build the generator" >&2; exit 1; }
cmake --build "$BUILD" -j2 --target capture-appliance >/dev/null 2>"$BC_WORK/build-app.err" ||
	echo "bench: capture-appliance does not build; its rows will say so"
cmake --build "$BUILD" -j2 --target fg_bench bn-spinpoll >/dev/null 2>&1 || true
BC_PRELOAD=""
[ -n "$BC_SPINPOLL" ] && BC_PRELOAD=$BUILD/bench/capture/libbn-spinpoll.so
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

IFS=, read -r -a TOOL_LIST <<<"$TOOLS"
have_tool() { [[ ",$TOOLS," == *",$1,"* ]]; }

# net_up QUEUES: the veth pair for this many RX queues (reused per group).
net_up()
{
	BC_QUEUES=$1
	local id="bn$(($$ % 100000))q$1"
	nh_up "$id" --queues "$1" >/dev/null || { echo "bench: netns $id failed" >&2; exit 1; }
	BC_CAP_NS=$NH_CAP_NS BC_PEER_NS=$NH_PEER_NS BC_CAP_IF=$NH_CAP_IF BC_PEER_IF=$NH_PEER_IF
	# The capture end is a capture port (no address), so the appliance's
	# default picks a capture-port path; appliance-host adds the address.
	ip -n "$BC_CAP_NS" addr flush dev "$BC_CAP_IF"
}
net_down() { nh_down "bn$(($$ % 100000))q$1"; }

# Rotates the tool order each repetition so load from outside hits all alike.
rotated_tools()
{
	local rep=$1 n=${#TOOL_LIST[@]} i
	for ((i = 0; i < n; i++)); do echo "${TOOL_LIST[(i + rep) % n]}"; done
}

# main_group SIZE FILTER SNAPLEN COUNT REPS
main_group()
{
	local size=$1 filter=$2 snap=$3 count=$4 reps=$5 rep tool
	echo "bench: size $size, filter '$filter', snaplen $snap, max rate, $count frames x $reps"
	for ((rep = 1; rep <= reps; rep++)); do
		for tool in $(rotated_tools "$rep"); do
			bc_point main "$tool" "$size" "$filter" "$snap" 0 "$count" 1 "$rep"
		done
	done
}

# sweep RATES...: offered rate vs captured rate, 64 B, udp, snaplen 64.
sweep()
{
	local rate tool count
	echo "bench: rate sweep $*"
	for rate in "$@"; do
		count=$(awk -v r="$rate" 'BEGIN { c = int(r * 1.5); print c < 200000 ? 200000 : c }')
		for tool in "${TOOL_LIST[@]}"; do
			[ "$tool" = xdpdump ] && continue # fails in the main group already
			bc_point sweep "$tool" 64 udp 64 "$rate" "$count" 1 1
		done
	done
}

# multiqueue QUEUES REPS: one generator thread per queue, at most one per
# CPU (veth puts a live XDP frame on RX queue sending-CPU % queues, so only
# that many queues can get traffic; two threads into one queue overflow its
# 256-frame ring before any tool sees the frames), tools not pinned.
multiqueue()
{
	local q=$1 reps=$2 rep tool saved=$BC_TOOL_CPUS threads
	threads=$((q < $(nproc) ? q : $(nproc)))
	echo "bench: $q RX queues, $threads generator threads"
	BC_TOOL_CPUS=""
	for ((rep = 1; rep <= reps; rep++)); do
		for tool in ceiling appliance tcpdump; do
			have_tool "$tool" && bc_point multiqueue "$tool" 64 udp 64 0 "$BC_MQ_COUNT" "$threads" "$rep"
		done
	done
	BC_TOOL_CPUS=$saved
}

# Frames a point must carry: 5 x the largest buffer between the veth and the
# file, in frames of this size and snaplen. The largest are tcpdump's -B and
# netsniff-ng's ring (64 MiB each); the appliance's are smaller (a ring
# buffer of 8 MiB per CPU or 4096 AF_XDP frames per queue, the writer's
# pool). Per frame at least 32 bytes of header (tpacket/ring record + pcap).
# Not the page cache: see README (BC_PAGECACHE=1 adds the dirty limit).
bc_count_for()
{
	local size=$1 snap=$2 cap buf dirty
	cap=$((snap < size ? snap : size))
	buf=$((64 << 20))
	if [ "${BC_PAGECACHE:-}" = 1 ]; then
		dirty=$(awk '/MemAvailable/ { print int($2 * 1024 * '"$(cat /proc/sys/vm/dirty_ratio)"' / 100) }' /proc/meminfo)
		buf=$((buf + dirty))
	fi
	echo $((5 * buf / (cap + 32)))
}

# bc_median_loss N: median loss % of the last N points (-1 if any failed).
bc_median_loss()
{
	tail -n "$1" "$BC_POINTS" | python3 -c '
import json, statistics, sys
ps = [json.loads(l) for l in sys.stdin if l.strip()]
if not ps or any(p["loss_pct"] is None for p in ps):
    print(-1)
else:
    print("%.4f %.0f %.0f" % (statistics.median(p["loss_pct"] for p in ps),
                              statistics.median(p["offered_pps"] for p in ps),
                              statistics.median(p["captured_pps"] for p in ps)))'
}

# lossless_search TOOL SIZE FILTER SNAP STEPS: the highest offered rate at
# which TOOL loses at most 0.1 % (median of LL_REPS runs per rate). First as
# fast as the generator can: lossless there means the tool took everything
# the generator could offer. Else bisect (geometrically) between the best
# lossless rate and the lowest lossy one, starting at what the tool
# captured at max rate. The points carry the answer; report.py reads it.
LL_REPS=${LL_REPS:-3}
LL_LIMIT=0.1
lossless_search()
{
	local tool=$1 size=$2 filter=$3 snap=$4 steps=$5 rep r lo=0 hi res loss off capd step count
	local group=${LL_GROUP:-lossless}
	count=${LL_COUNT:-$(bc_count_for "$size" "$snap")}
	for ((rep = 1; rep <= LL_REPS; rep++)); do
		bc_point "$group" "$tool" "$size" "$filter" "$snap" 0 "$count" 1 "$rep"
	done
	read -r loss off capd <<<"$(bc_median_loss "$LL_REPS")"
	[ "$loss" = -1 ] && return 0
	awk -v l="$loss" -v m="$LL_LIMIT" 'BEGIN { exit !(l <= m) }' && return 0
	hi=$off
	r=$(awk -v c="$capd" -v h="$hi" 'BEGIN { r = c < 0.9 * h ? c : 0.9 * h; print int(r > 10000 ? r : 10000) }')
	for ((step = 1; step <= steps; step++)); do
		for ((rep = 1; rep <= LL_REPS; rep++)); do
			bc_point "$group" "$tool" "$size" "$filter" "$snap" "$r" "$count" 1 "$rep"
		done
		read -r loss off capd <<<"$(bc_median_loss "$LL_REPS")"
		if [ "$loss" != -1 ] && awk -v l="$loss" -v m="$LL_LIMIT" 'BEGIN { exit !(l <= m) }'; then
			lo=$r
		else
			hi=$r
		fi
		r=$(awk -v lo="$lo" -v hi="$hi" 'BEGIN { print int(lo > 0 ? sqrt(lo * hi) : hi / 2) }')
	done
}

# index_compare: issue 13, capture with indexing on vs off and with a query
# running. Each round runs the lossless search for the three variants, in
# an order rotated every round (load from outside hits all alike); the
# points of round R are in group index-rR, so index_report.py compares the
# variants of one round side by side. Only under BC_SCHED=nice: under
# SCHED_FIFO the background threads inherit the real-time policy (README).
IX_SIZE=${IX_SIZE:-1514}
IX_SNAP=${IX_SNAP:-262144}
IX_STEPS=${IX_STEPS:-6}
IX_ROUNDS=${IX_ROUNDS:-3}
BC_ROTATE_SIZE=${BC_ROTATE_SIZE:-16M}
index_compare()
{
	local variants=(appliance-noindex appliance-index appliance-query) n=3 round i tool
	echo "bench: indexing on/off/query, $IX_SIZE B, udp, snaplen $IX_SNAP, rotate $BC_ROTATE_SIZE, ${LL_COUNT:-$(bc_count_for "$IX_SIZE" "$IX_SNAP")} frames per point, $IX_ROUNDS rounds"
	for ((round = 1; round <= IX_ROUNDS; round++)); do
		for ((i = 0; i < n; i++)); do
			tool=${variants[(i + round) % n]}
			LL_GROUP=index-r$round lossless_search "$tool" "$IX_SIZE" udp "$IX_SNAP" "$IX_STEPS"
		done
	done
}

# index_ladder: then side by side at fixed offered rates: at each rate of
# IX_LADDER (frames/s; none by default), the three variants one right after
# the other, IX_LADDER_REPS times (group index-ladder). Load from outside
# changes over minutes, so this compares the variants more closely than
# searches run minutes apart.
IX_LADDER=${IX_LADDER:-}
IX_LADDER_REPS=${IX_LADDER_REPS:-3}
index_ladder()
{
	local variants=(appliance-noindex appliance-index appliance-query) rep rate i tool count
	[ -n "$IX_LADDER" ] || return 0
	count=${LL_COUNT:-$(bc_count_for "$IX_SIZE" "$IX_SNAP")}
	echo "bench: side by side at $IX_LADDER frames/s, $IX_LADDER_REPS rounds, $count frames per point"
	for ((rep = 1; rep <= IX_LADDER_REPS; rep++)); do
		for rate in $IX_LADDER; do
			for ((i = 0; i < 3; i++)); do
				tool=${variants[(i + rep) % 3]}
				bc_point index-ladder "$tool" "$IX_SIZE" udp "$IX_SNAP" "$rate" "$count" 1 "$rep"
			done
		done
	done
}

# wbuf_ladder: issue 11, 1514-B frames at full snaplen: the default
# appliance with writer pools of WB_SIZES MiB (--write-buffer) side by side
# at fixed offered rates WB_LADDER, WB_REPS rounds, the order rotated every
# round (group wbuf-NM); then the medians per pool and rate.
WB_SIZES=${WB_SIZES:-16 64 256}
WB_LADDER=${WB_LADDER:-200000 400000 600000}
WB_REPS=${WB_REPS:-3}
wbuf_ladder()
{
	local sizes=($WB_SIZES) n rep rate i mb count saved=$BC_APPLIANCE_ARGS
	n=${#sizes[@]}
	count=${LL_COUNT:-$(bc_count_for 1514 262144)}
	echo "bench: writer pool ${WB_SIZES} MiB at $WB_LADDER frames/s, 1514 B, $count frames per point, $WB_REPS rounds"
	for ((rep = 1; rep <= WB_REPS; rep++)); do
		for rate in $WB_LADDER; do
			for ((i = 0; i < n; i++)); do
				mb=${sizes[(i + rep) % n]}
				BC_APPLIANCE_ARGS="$saved --write-buffer ${mb}M" \
					bc_point "wbuf-${mb}M" appliance 1514 udp 262144 "$rate" "$count" 1 "$rep"
			done
		done
	done
	python3 - "$BC_POINTS" <<'PY'
import json, re, statistics, sys
from collections import defaultdict
by = defaultdict(list)
for line in open(sys.argv[1]):
    p = json.loads(line) if line.strip() else {}
    if str(p.get("group", "")).startswith("wbuf-") and p.get("loss_pct") is not None:
        by[(int(p["group"][5:-1]), p["target_pps"])].append(p)
def behind(p):
    m = re.search(r"writer behind (\d+)", p.get("appliance_counters") or "")
    return int(m.group(1)) if m else 0
print("| writer pool | asked frames/s | runs | median loss % | median captured frames/s | median writer behind |")
print("|---|---|---|---|---|---|")
for (mb, r), ps in sorted(by.items()):
    print("| %d MiB | %.0f | %d | %.2f | %.0f | %.0f |" % (mb, r, len(ps),
          statistics.median(p["loss_pct"] for p in ps),
          statistics.median(p["captured_pps"] for p in ps),
          statistics.median(behind(p) for p in ps)))
PY
}

# lossless SIZE FILTER SNAP STEPS: every tool, one after the other.
lossless()
{
	local size=$1 filter=$2 snap=$3 steps=$4 tool
	echo "bench: lossless rate, $size B, filter '$filter', snaplen $snap, $(bc_count_for "$size" "$snap") frames per point, $LL_REPS runs per rate"
	for tool in "${TOOL_LIST[@]}"; do
		[ "$tool" = xdpdump ] && continue # fails here (README)
		lossless_search "$tool" "$size" "$filter" "$snap" "$steps"
	done
}

# disk_rate: the file system's own sequential write rate where the tools
# write (BC_WORK), 1 GiB of 1 MiB writes, buffered + fdatasync and O_DIRECT;
# one point each (group disk).
disk_rate()
{
	local how flags out
	for how in buffered direct; do
		flags=(conv=fdatasync)
		[ "$how" = direct ] && flags=(oflag=direct)
		sync
		out=$(dd if=/dev/zero of="$BC_WORK/disk.bin" bs=1M count=1024 "${flags[@]}" 2>&1 | tail -n1)
		rm -f "$BC_WORK/disk.bin"
		python3 -c '
import json, re, sys
m = re.match(r"(\d+) bytes .* copied, ([0-9.]+) s", sys.argv[2])
b, s = (int(m.group(1)), float(m.group(2))) if m else (0, 0)
print(json.dumps(dict(group="disk", tool="disk-" + sys.argv[1], how=sys.argv[1],
                      bytes=b, seconds=s, bytes_per_s=b / s if s else 0,
                      loadavg=float(open("/proc/loadavg").read().split()[0]))))' \
			"$how" "$out" | tee -a "$BC_POINTS"
	done
}

# profile_tools: one point per tool under perf, the report per command name
# and the top symbols of the tool and of the generator's CPU.
profile_tools()
{
	local tool
	BC_PERF_DIR=$BC_WORK
	mkdir -p "$OUT"
	for tool in "${TOOL_LIST[@]}"; do
		[ "$tool" = xdpdump ] && continue
		bc_point profile "$tool" 64 udp 64 0 "${COUNT:-3000000}" 1 1
		[ -s "$BC_WORK/perf-$tool.data" ] || continue
		{
			echo "# $tool: 64 B, udp, snaplen 64, max rate; perf record -a -g (both CPUs)"
			echo "## by command"
			perf report -i "$BC_WORK/perf-$tool.data" --no-children --sort comm --stdio -g none 2>/dev/null |
				grep '%' | head -n 15
			echo "## by command and symbol"
			perf report -i "$BC_WORK/perf-$tool.data" --no-children --sort comm,dso,sym --stdio -g none 2>/dev/null |
				grep '%' | head -n 60
		} >"$OUT/profile-$tool.txt"
		rm -f "$BC_WORK/perf-$tool.data"
		echo "bench: $OUT/profile-$tool.txt"
	done
	BC_PERF_DIR=""
}

START=$(date -u +%FT%TZ)
net_up 1
if [ "$MODE" = profile ]; then
	profile_tools
	exit 0
elif [ "$MODE" = index ]; then
	[ "$BC_SCHED" = nice ] || { echo "bench: --index needs BC_SCHED=nice (see README)" >&2; exit 2; }
	index_compare
	index_ladder
	python3 "$BC_DIR/index_report.py" --points "$BC_POINTS" --start "$START" \
		--rotate "$BC_ROTATE_SIZE" --out "$OUT/index.md" || exit 1
	echo "bench: results in $OUT/index.md"
	exit 0
elif [ "$MODE" = wbuf ]; then
	wbuf_ladder | tee "$OUT/wbuf.md"
	exit 0
elif [ "$MODE" = queues ]; then
	# only the RX-queue scaling of --full (64 B, udp, snaplen 64, max rate)
	net_down 1
	BC_MQ_COUNT=${COUNT:-3000000}
	for q in 1 2 4; do
		net_up "$q"
		multiqueue "$q" "${REPS:-3}"
		net_down "$q"
	done
	net_up 1
elif [ -n "$MAIN_ONLY" ]; then
	main_group 64 udp 64 "${COUNT:-2000000}" "${REPS:-3}"
elif [ "$MODE" = quick ]; then
	# LL_SIZES: which frame sizes' searches (default both)
	[[ " ${LL_SIZES:-64 1514} " == *" 64 "* ]] && lossless 64 udp 64 "${LL_STEPS:-2}"
	if [[ " ${LL_SIZES:-64 1514} " == *" 1514 "* ]]; then
		disk_rate
		lossless 1514 udp 262144 "${LL_STEPS:-2}"
	fi
else
	lossless 64 udp 64 4
	disk_rate
	lossless 1514 udp 262144 4
	R=${REPS:-3}
	C=${COUNT:-3000000}
	# queues first: with a shorter time budget, kill the run and
	# report.py the points it left in OUT
	net_down 1
	BC_MQ_COUNT=$C
	for q in 1 2 4; do
		net_up "$q"
		multiqueue "$q" "$R"
		net_down "$q"
	done
	net_up 1
	for size in 64 1514; do
		c=$C
		[ "$size" -gt 64 ] && c=$((C / 2))
		for snap in 64 262144; do
			for filter in udp "$LONG_FILTER"; do
				main_group "$size" "$filter" "$snap" "$c" "$R"
			done
		done
	done
	sweep 100000 250000 500000 1000000 1500000 2000000 3000000
	if [ -x "$BUILD/bench/filter/fg_bench" ]; then
		echo "bench: filter compiler (bench/filter/fg_bench)"
		"$BUILD/bench/filter/fg_bench" -n 60 -o "$BC_WORK/filter.json" >"$BC_WORK/filter.md" 2>"$BC_WORK/filter.err" ||
			echo "bench: fg_bench failed: $(tail -n1 "$BC_WORK/filter.err")"
	fi
fi
if [ "$MODE" = quick ] && [ -z "$MAIN_ONLY" ] && [ -z "${BC_NO_FILTER:-}" ] && [ -x "$BUILD/bench/filter/fg_bench" ]; then
	"$BUILD/bench/filter/fg_bench" -n 15 -o "$BC_WORK/filter.json" >"$BC_WORK/filter.md" 2>"$BC_WORK/filter.err" ||
		echo "bench: fg_bench failed: $(tail -n1 "$BC_WORK/filter.err")"
fi

python3 "$BC_DIR/report.py" --points "$BC_POINTS" --mode "$MODE" --start "$START" \
	--filter-md "$BC_WORK/filter.md" --filter-json "$BC_WORK/filter.json" \
	--long-filter "$LONG_FILTER" --gen-cpu "$BC_GEN_CPU" --tool-cpus "$BC_TOOL_CPUS" --sched "generator ${BC_PRIO[*]}, tools ${BC_PRIO_TOOL[*]}" --out "$OUT" ||
	{ echo "bench: report failed" >&2; exit 1; }
echo "bench: results in $OUT/latest.md, latest.json, latest.png"
