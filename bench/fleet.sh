#!/bin/bash
# bench/fleet.sh [FRAMES] [RUNS]: a fleet query over two sensors against the
# slower sensor's own extraction, side by side, and the catalog's cost on
# capture. The setting of tests/fleet (a three-node NATS cluster in a hub
# namespace, two appliances on their own veth pairs); each sensor captures
# FRAMES (default 1000000) 200-byte UDP frames from bn-pktgen into
# 32-MiB files. Then, RUNS times (default 7), interleaved:
#   own    curl of each sensor's REST extract stream (its own extraction,
#          the same query), from the hub; the slower of the two counts
#   fleet  capture-appliance fleet extract (catalog, NATS request/reply,
#          both streams at once, merge) -w /dev/null
# for a selective query (one flow: 'udp src port 1024') and everything
# ('udp'). Medians. The catalog's cost: CPU seconds of each sensor's fleet
# threads (ca-fleet) against the whole appliance's over the capture.
# Root; never touches eth0. Prints a Markdown table.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
SRC=$(readlink -f "$HERE/..")
BIN=${BIN:-$SRC/build/cli/capture-appliance}
PKTGEN=${PKTGEN:-$SRC/build/bench/pktgen/bn-pktgen}
FRAMES=${1:-1000000}
RUNS=${2:-7}
source "$SRC/tests/fleet/lib.sh"
FL_ROTATE="--rotate-size 32M"
fl_init "$BIN" z
fl_nats_up
fl_sensor_up 1
fl_sensor_up 2

# cpu_of PID [THREAD-NAME]: utime+stime in seconds of the process, or of its
# threads of that name (the fleet thread and the libnats threads it starts,
# which inherit its name)
cpu_of()
{
	local pid=$1 name=${2:-} t tick sum=0
	tick=$(getconf CLK_TCK)
	if [ -z "$name" ]; then
		awk -v k="$tick" '{print ($14 + $15) / k}' "/proc/$pid/stat"
		return
	fi
	for t in /proc/"$pid"/task/*; do
		[ "$(cat "$t/comm")" = "$name" ] || continue
		sum=$(awk -v k="$tick" -v s="$sum" '{print s + ($14 + $15) / k}' "$t/stat")
	done
	echo "$sum"
}

# the capture, both sensors at once; CPU before and after
declare -A c0 f0
for n in 1 2; do
	c0[$n]=$(cpu_of "${FL_SPID[$n]}"); f0[$n]=$(cpu_of "${FL_SPID[$n]}" ca-fleet)
done
t0=$(date +%s.%N)
for n in 1 2; do
	ip netns exec "${FL_SPEER[$n]}" "$PKTGEN" --iface "${FL_SPEERIF[$n]}" --count "$FRAMES" \
		--size 200 --flows 64 --rate 200000 --dst-mac 02:1c:00:00:00:01 >"$FL_TMP/gen$n.log" 2>&1 &
	eval "g$n=\$!"
done
wait "$g1" "$g2"
t1=$(date +%s.%N)
sleep 6 # a heartbeat or two; the last file stays open (no seal): it is extracted all the same
cpu_line=""
for n in 1 2; do
	c=$(cpu_of "${FL_SPID[$n]}"); f=$(cpu_of "${FL_SPID[$n]}" ca-fleet)
	cpu_line+=$(awk -v c0="${c0[$n]}" -v c="$c" -v f0="${f0[$n]}" -v f="$f" -v n="$n" \
		'BEGIN { printf "s%d: appliance %.2f CPU s, its fleet thread %.3f CPU s (%.2f %%); ", n, c - c0, f - f0, (c - c0 > 0) ? 100 * (f - f0) / (c - c0) : 0 }')
done
# seal the last files: a tiny second burst makes rotation nothing; stop and
# restart would too. Extraction reads open files as well, so none needed.
from=$(python3 -c "print(f'{$t0 - 1:.9f}')")
to=$(python3 -c "print(f'{$t1 + 5:.9f}')")
tok=$(cat /run/capture-appliance/api.token)
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

own() # EXPR: seconds of the slower sensor's own extraction (REST, from the hub)
{
	local e n s max=0
	e=$(enc "$1")
	for n in 1 2; do
		s=$(fl_hub curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $tok" \
			"http://10.77.$n.2:9000/api/v1/captures/${FL_SIF[$n]}/extract?from=$from&to=$to&filter=$e")
		max=$(python3 -c "print(max($max, $s))")
	done
	echo "$max"
}

fleet() # EXPR: seconds of the fleet query
{
	local a b
	a=$(date +%s.%N)
	fl_client extract --from "$from" --to "$to" -w /dev/null "$1" 2>"$FL_TMP/fleet.err" ||
		{ cat "$FL_TMP/fleet.err" >&2; fl_fail "fleet extract failed"; }
	b=$(date +%s.%N)
	python3 -c "print(f'{$b - $a:.3f}')"
}

# the catalog knows the files (the open one is extracted by the sensors anyway)
for ((i = 0; i < 60; i++)); do
	[ "$(fl_client catalog | wc -l)" -ge 2 ] && break
	sleep 1
done
declare -A O F
for expr in 'udp src port 1024' 'udp'; do
	O[$expr]=""
	F[$expr]=""
	for ((r = 0; r < RUNS; r++)); do
		O[$expr]+="$(own "$expr") "
		F[$expr]+="$(fleet "$expr") "
	done
done
fl_client extract --from "$from" --to "$to" -w "$FL_TMP/fleet.pcap" udp 2>/dev/null
records=$(python3 -c "import sys; sys.path.insert(0, '$SRC/tests/extract'); from pcaputil import read_capture; print(len(read_capture('$FL_TMP/fleet.pcap')[1]))")
med() { python3 -c 'import statistics, sys; print(f"{statistics.median(map(float, sys.argv[1:])):.3f}")' $1; }
echo
echo "fleet query over 2 sensors vs the slower sensor's own REST extraction ($FRAMES frames of 200 B per sensor; medians of $RUNS interleaved runs; $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| query | slower sensor's own extraction, s | fleet extract, s | ratio |"
echo "|---|---|---|---|"
for expr in 'udp src port 1024' 'udp'; do
	o=$(med "${O[$expr]}"); f=$(med "${F[$expr]}")
	echo "  $expr: own ${O[$expr]}/ fleet ${F[$expr]}" >&2
	echo "| \`$expr\` | $o | $f | $(python3 -c "print(f'{$f / $o:.2f}x')") |"
done
echo
echo "last answer of 'udp': $records records"
echo "catalog cost during the capture: $cpu_line"
fl_sensor_stop 1
fl_sensor_stop 2
