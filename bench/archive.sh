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
		bench up 600 "$IT_TMP"/up/f*.pcap >"$IT_TMP/up.out" || it_fail "upload: $(cat "$IT_TMP/up.out")"
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

# One appliance run: rotation ROT, RATE frames/s (0: as fast as the
# generator can) of 1514 B, COUNT frames, snaplen SNAP; with the archive,
# until every sealed file is listed (its CPU counted). Prints "matched
# dropped cpu_seconds".
run_cap()
{
	local mode=$1 tag=$2 rate=$3 count=$4 snap=$5 rot=$6 ar=() ticks
	rm -f "$IT_DUMP"-*
	[ "$mode" = on ] && ar=(--archive "s3://bench-archive/$tag" --s3-endpoint "$SWIFT_S3"
		--s3-credentials "$IT_TMP/cred" --archive-state "$IT_TMP/state.$tag")
	it_start --mode ingress --filter udp --snaplen "$snap" --rotate-size "$rot" "${ar[@]}" >/dev/null
	local poller=
	if [ "$mode" = on ]; then
		poll_listed "$tag" &
		poller=$!
	fi
	it_peer "$GEN" --iface "$NH_PEER_IF" --dst-mac "$NH_CAP_MAC" --size 1514 --rate "$rate" \
		--count "$count" >/dev/null 2>&1 || it_fail "bn-pktgen"
	if [ "$mode" = on ]; then
		touch "$IT_TMP/done.$tag"
		wait "$poller"
	fi
	ticks=$(awk '{ print $14 + $15 }' "/proc/$IT_PID/stat")
	it_stop >/dev/null
	echo "$(it_final_counter matched) $(it_final_counter dropped) $(echo "$ticks $(getconf CLK_TCK)" | awk '{ printf "%.2f", $1 / $2 }')"
}

# Seal-to-listed, in the background from before the traffic starts: poll
# the listing every 100 ms and note when each object first appears; once
# the traffic is done ($IT_TMP/done.TAG) and every sealed file is listed,
# write each file's delay (first listed - its mtime) to latency.TAG.
poll_listed()
{
	local tag=$1 i t f b missing
	: >"$IT_TMP/seen.$tag"
	for ((i = 0; i < 3000; i++)); do
		t=$(now)
		swift_list bench-archive "$tag/" 2>/dev/null | sort >"$IT_TMP/list.$tag" || true
		awk '{ print $2 }' "$IT_TMP/seen.$tag" | sort >"$IT_TMP/known.$tag"
		comm -13 "$IT_TMP/known.$tag" "$IT_TMP/list.$tag" | sed "s|^|$t |" >>"$IT_TMP/seen.$tag"
		if [ -e "$IT_TMP/done.$tag" ]; then
			missing=0
			for f in $(ls "$IT_DUMP"-*.pcap | head -n -1); do
				grep -q "/$(basename "$f")\$" "$IT_TMP/seen.$tag" || { missing=1; break; }
			done
			[ "$missing" = 0 ] && break
		fi
		sleep 0.1
	done
	for f in $(ls "$IT_DUMP"-*.pcap | head -n -1); do
		b=$(basename "$f")
		awk -v b="/$b" -v m="$(stat -c %.9Y "$f")" '$2 ~ b"$" { printf "%.2f\n", $1 - m }' \
			"$IT_TMP/seen.$tag"
	done >"$IT_TMP/latency.$tag"
}

declare -A loss cpu
# runs of both kinds interleaved: the machine's load hits both alike
table()
{
	local what=$1 rate=$2 count=$3 snap=$4 rot=$5 r mode m d c
	loss=() cpu=()
	for ((r = 0; r < RUNS; r++)); do
		for mode in off on; do
			read -r m d c < <(run_cap "$mode" "$what$r$mode" "$rate" "$count" "$snap" "$rot")
			it_log "$what $mode run $r: matched $m dropped $d cpu $c s"
			loss[$mode]+="$(echo "$m $d" | awk '{ printf "%.3f", $1 ? 100 * $2 / $1 : 0 }') "
			cpu[$mode]+="$c "
		done
	done
	echo "| archive | loss % (runs) | median loss % | appliance CPU s (runs) | median CPU s |"
	echo "|---|---|---|---|---|"
	for mode in off on; do
		echo "| $mode | ${loss[$mode]} | $(echo "${loss[$mode]}" | tr ' ' '\n' | grep . | median) | ${cpu[$mode]} | $(echo "${cpu[$mode]}" | tr ' ' '\n' | grep . | median) |"
	done
	echo
}
{
	echo "## Capture with archiving on and off, Swift on the same 2 CPUs"
	echo
	echo "$PPS frames/s of 1514 B for $SECS s, snaplen 1514, rotation 8 MiB (appliance CPU: with the archive until every sealed file is listed, so it includes the digests and the upload):"
	echo
	table paced "$PPS" $((PPS * SECS)) 1514 8M
	echo "As fast as bn-pktgen sends (2 M frames of 1514 B), snaplen 128, rotation 8 MiB:"
	echo
	table max 0 2000000 128 8M
} >>"$OUT"

# Seal to listed at a modest rate: a file of 2 MiB about every 0.7 s.
read -r m d c < <(run_cap on lat 2000 $((2000 * 20)) 1514 2M)
{
	echo "## Time from a file sealed (its mtime) to its object listed (listing polled every 100 ms)"
	echo
	echo "| traffic | files | median s | max s |"
	echo "|---|---|---|---|"
	echo "| 2000 frames/s of 1514 B, rotation 2 MiB | $(wc -l <"$IT_TMP/latency.lat") | $(median <"$IT_TMP/latency.lat") | $(sort -n "$IT_TMP/latency.lat" | tail -1) |"
	cat "$IT_TMP"/latency.paced*on >"$IT_TMP/latency.paced"
	echo "| $PPS frames/s of 1514 B, rotation 8 MiB | $(wc -l <"$IT_TMP/latency.paced") | $(median <"$IT_TMP/latency.paced") | $(sort -n "$IT_TMP/latency.paced" | tail -1) |"
} >>"$OUT"
cat "$OUT"
