#!/bin/bash
# Archive figures (issue 14): upload rate on loopback, time from a file being
# sealed to its object being listed, and what archiving costs the capture
# (side by side, archive on and off, medians). Root; a Swift all-in-one
# (tests/archive/swift.sh) in a network namespace of its own making, traffic
# from bn-pktgen over a veth pair; never eth0.
#
#   bench/archive.sh [--build DIR] [--runs N] [--rate PPS] [--seconds S]
#
# Prints a Markdown table; also in bench/archive/latest.md.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build RUNS=3 PPS=40000 SECS=8
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$(readlink -f "$2"); shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--rate) PPS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--runs N] [--rate PPS] [--seconds S]" >&2; exit 2 ;;
	esac
done
BIN=$BUILD/cli/capture-appliance
TOOL=$BUILD/tests/archive/ar_tool
GEN=$BUILD/bench/pktgen/bn-pktgen
for b in "$BIN" "$TOOL" "$GEN"; do [ -x "$b" ] || { echo "no $b: build first" >&2; exit 1; }; done

source "$SRC/tests/integration/lib.sh"
source "$SRC/tests/archive/swift.sh"
it_init "$BIN" arb
SWIFT_NO_TRAP=1
nh_cleanup_add swift_stop
swift_start "$NH_CAP_NS" || it_fail "Swift did not start"
swift_mkbucket bench-archive || it_fail "bucket"
(umask 077 && printf 'access_key = %s\nsecret_key = %s\n' "$SWIFT_KEY" "$SWIFT_SECRET" >"$IT_TMP/cred")
export AR_ENDPOINT=$SWIFT_S3 AR_CRED=$IT_TMP/cred
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
OUT=$SRC/bench/archive/latest.md
mkdir -p "$(dirname "$OUT")"
{
	echo "# Archive figures, $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
} >"$OUT"

# 1. Upload rate: 4 files of 64 MiB through the archiver (digests, PUT,
# HEAD), unlimited and with --archive-rate 20M.
mkdir "$IT_TMP/up"
for i in 1 2 3 4; do head -c $((64 << 20)) /dev/urandom >"$IT_TMP/up/f$i.pcap"; done
up_rate()
{
	local t0 t1 run=$1 rate=$2
	rm -rf "$IT_TMP/st$run"
	t0=$(now)
	AR_URL=s3://bench-archive/up$run AR_RATE=$rate it_cap "$TOOL" archive "$IT_TMP/st$run" \
		bench up "$IT_TMP"/up/f*.pcap 600 >"$IT_TMP/up.out" || it_fail "upload: $(cat "$IT_TMP/up.out")"
	t1=$(now)
	grep -q "uploaded_bytes $((4 * (64 << 20)))" "$IT_TMP/up.out" || it_fail "upload incomplete"
	echo "$t0 $t1" | awk '{ printf "%.1f\n", 4 * 64 / ($2 - $1) }'
}
rates=()
for ((r = 0; r < RUNS; r++)); do rates+=("$(up_rate "u$r" 0)"); done
limited=$(up_rate lim $((20 << 20)))
{
	echo "## Upload rate on loopback (Swift all-in-one, s3api; 4 x 64 MiB)"
	echo
	echo "| setting | MiB/s (runs) | median |"
	echo "|---|---|---|"
	echo "| no limit | ${rates[*]} | $(printf '%s\n' "${rates[@]}" | median) |"
	echo "| --archive-rate 20M | $limited | $limited |"
	echo
} >>"$OUT"
rm -rf "$IT_TMP/up"

# One appliance run: rotation 8M, PPS frames/s of 1514 B for SECS s.
# Prints "matched dropped cpu_seconds".
run_cap()
{
	local mode=$1 tag=$2 ar=() pid ticks
	rm -f "$IT_DUMP"-*
	[ "$mode" = on ] && ar=(--archive "s3://bench-archive/$tag" --s3-endpoint "$SWIFT_S3"
		--s3-credentials "$IT_TMP/cred" --archive-state "$IT_TMP/state.$tag")
	it_start --mode ingress --filter udp --snaplen 1514 --rotate-size 8M "${ar[@]}" >/dev/null
	it_peer "$GEN" --iface "$NH_PEER_IF" --dst-mac "$NH_CAP_MAC" --size 1514 --rate "$PPS" \
		--count $((PPS * SECS)) >/dev/null 2>&1 || it_fail "bn-pktgen"
	[ "$mode" = on ] && wait_listed "$tag"
	ticks=$(awk '{ print $14 + $15 }' "/proc/$IT_PID/stat")
	it_stop >/dev/null
	echo "$(it_final_counter matched) $(it_final_counter dropped) $(echo "$ticks $(getconf CLK_TCK)" | awk '{ printf "%.2f", $1 / $2 }')"
}

# Seal-to-listed: until every sealed file of the run is listed, poll the
# listing every 100 ms and note when each object first appears.
wait_listed()
{
	local tag=$1 i f b n
	: >"$IT_TMP/seen.$tag"
	for ((i = 0; i < 600; i++)); do
		swift_list bench-archive "$tag/" >"$IT_TMP/list" || true
		t=$(now)
		while read -r k; do
			grep -q " $k\$" "$IT_TMP/seen.$tag" || echo "$t $k" >>"$IT_TMP/seen.$tag"
		done <"$IT_TMP/list"
		n=0
		for f in $(ls "$IT_DUMP"-*.pcap | head -n -1); do
			b=$(basename "$f")
			grep -q "/$b\$" "$IT_TMP/seen.$tag" || { n=1; break; }
		done
		[ "$n" = 0 ] && break
		sleep 0.1
	done
	for f in $(ls "$IT_DUMP"-*.pcap | head -n -1); do
		b=$(basename "$f")
		awk -v b="/$b" -v m="$(stat -c %.9Y "$f")" '$2 ~ b"$" { printf "%.2f\n", $1 - m }' \
			"$IT_TMP/seen.$tag"
	done >>"$IT_TMP/latency"
}

: >"$IT_TMP/latency"
declare -A loss cpu
for ((r = 0; r < RUNS; r++)); do
	for mode in off on; do
		read -r m d c < <(run_cap "$mode" "r$r$mode")
		it_log "$mode run $r: matched $m dropped $d cpu $c s"
		loss[$mode]+="$(echo "$m $d" | awk '{ printf "%.3f", $1 ? 100 * $2 / $1 : 0 }') "
		cpu[$mode]+="$c "
	done
done
{
	echo "## Capture with archiving on and off ($PPS frames/s of 1514 B for $SECS s, rotation 8 MiB, Swift on the same 2 CPUs)"
	echo
	echo "| archive | loss % (runs) | median loss % | appliance CPU s (runs) | median CPU s |"
	echo "|---|---|---|---|---|"
	for mode in off on; do
		echo "| $mode | ${loss[$mode]} | $(echo "${loss[$mode]}" | tr ' ' '\n' | grep . | median) | ${cpu[$mode]} | $(echo "${cpu[$mode]}" | tr ' ' '\n' | grep . | median) |"
	done
	echo
	echo "## Time from a file sealed (its mtime) to its object listed (polled every 100 ms)"
	echo
	echo "| files | median s | max s |"
	echo "|---|---|---|"
	echo "| $(wc -l <"$IT_TMP/latency") | $(median <"$IT_TMP/latency") | $(sort -n "$IT_TMP/latency" | tail -1) |"
} >>"$OUT"
cat "$OUT"
