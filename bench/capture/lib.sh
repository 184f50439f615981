# shellcheck shell=bash
# bench/capture helpers: start a capture tool in the capture namespace, run
# the generator in the peer namespace, stop the tool, count what it wrote.
# Sourced by run.sh, which sets BC_* (paths, namespaces, CPUs).
#
# Every process is started by us and stopped by its own PID; the namespaces
# (and with them every XDP program on the veth) go away in the EXIT trap.

# bc_bg NAME CMD...: runs CMD in the background; NAME.pid gets its PID, and
# when it exits NAME.rc its status and NAME.times its CPU time (the "times"
# of a subshell whose only child is CMD: user+system of all its threads).
bc_bg()
{
	local name=$1
	shift
	rm -f "$BC_WORK/$name".{pid,rc,times,out,err}
	(
		"$@" >"$BC_WORK/$name.out" 2>"$BC_WORK/$name.err" &
		echo $! >"$BC_WORK/$name.pid"
		wait $!
		echo $? >"$BC_WORK/$name.rc"
		times >"$BC_WORK/$name.times"
	) &
	local i
	for ((i = 0; i < 50; i++)); do
		[ -s "$BC_WORK/$name.pid" ] && return 0
		sleep 0.02
	done
	return 1
}

bc_running() { [ -s "$BC_WORK/$1.pid" ] && [ ! -e "$BC_WORK/$1.rc" ]; }

# bc_wait_ready NAME REGEX SECONDS: until NAME's output matches; 1 if it
# exited or timed out.
bc_wait_ready()
{
	local name=$1 re=$2 t=$3 i
	for ((i = 0; i < t * 20; i++)); do
		grep -qE "$re" "$BC_WORK/$name.out" "$BC_WORK/$name.err" 2>/dev/null && return 0
		bc_running "$name" || return 1
		sleep 0.05
	done
	return 1
}

# bc_stop NAME [SIGNAL]: signals NAME by its PID, waits up to 30 s for it to
# finish writing, then kills it. Leaves NAME.rc / NAME.times behind.
bc_stop()
{
	local name=$1 sig=${2:-INT} pid i
	[ -s "$BC_WORK/$name.pid" ] || return 0
	pid=$(cat "$BC_WORK/$name.pid")
	bc_running "$name" && kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 600; i++)); do
		bc_running "$name" || break
		sleep 0.05
	done
	if bc_running "$name"; then
		kill -KILL "$pid" 2>/dev/null
		echo "bench: $name did not stop on SIG$sig, killed" >>"$BC_WORK/$name.err"
		for ((i = 0; i < 100; i++)); do
			[ -e "$BC_WORK/$name.rc" ] && break
			sleep 0.05
		done
	fi
	# the subshell writes .times right after .rc
	for ((i = 0; i < 40; i++)); do
		[ -s "$BC_WORK/$name.times" ] && break
		sleep 0.05
	done
}

# CPU seconds (user + system) from NAME.times, second line: "XmY.YYYs XmZ.ZZZs".
bc_cpu_seconds()
{
	sed -n 2p "$BC_WORK/$1.times" 2>/dev/null |
		awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } printf "%.3f", s }'
}

# Waits until FILE stops growing (3 equal sizes 200 ms apart, at most 10 s):
# the tool has written what it took before we ask it to stop.
bc_wait_file_settled()
{
	local f=$1 last=-1 same=0 i sz
	for ((i = 0; i < 50; i++)); do
		sz=$(stat -c %s "$f" 2>/dev/null || echo 0)
		if [ "$sz" = "$last" ]; then
			((++same >= 3)) && return 0
		else
			same=0
		fi
		last=$sz
		sleep 0.2
	done
}

# Packets in a pcap file, read back with capinfos (tcpdump -r as fallback);
# never the tool's own counter.
bc_count_pcap()
{
	local f=$1 n
	[ -s "$f" ] || { echo 0; return; }
	n=$(capinfos -c -M "$f" 2>/dev/null | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }')
	if [ -z "$n" ]; then
		n=$(tcpdump -r "$f" -n -q 2>/dev/null | wc -l)
	fi
	echo "${n:-0}"
}

# The ingress path the appliance says it chose ("ingress via P").
bc_app_path()
{
	local l
	l=$(grep -ho 'ingress via [^;]*' "$BC_WORK/cap.err" "$BC_WORK/cap.out" 2>/dev/null | head -n1)
	case $l in
	*transparent*) echo transparent ;;
	*ringbuf*) echo ringbuf ;;
	*AF_XDP*) echo afxdp ;;
	*) echo "?" ;;
	esac
}

# Last non-empty line of NAME's stderr/stdout: why a tool failed.
bc_reason()
{
	cat "$BC_WORK/$1.err" "$BC_WORK/$1.out" 2>/dev/null | grep -v '^\s*$' |
		grep -viE 'Cannot set system socket memory' | tail -n 1 | cut -c1-200
}

# bc_cap_cmd TOOL FILTER SNAPLEN FILE: prints nothing, sets BC_CMD (array),
# BC_READY (regex on the tool's output) and BC_NOTE (what the tool can't do).
bc_cap_cmd()
{
	local tool=$1 filter=$2 snap=$3 file=$4
	local pin=()
	[ -n "$BC_TOOL_CPUS" ] && pin=(taskset -c "$BC_TOOL_CPUS")
	BC_NOTE=""
	case $tool in
	ceiling)
		BC_CMD=(ip netns exec "$BC_CAP_NS" "$BC_SINK" --iface "$BC_CAP_IF" --drop)
		BC_READY='^attached'
		BC_NOTE="XDP_DROP, counted in its own map; writes no file"
		;;
	tcpdump)
		BC_CMD=(ip netns exec "$BC_CAP_NS" "${BC_PRIO_TOOL[@]}" "${pin[@]}"
			tcpdump -i "$BC_CAP_IF" -w "$file" -s "$snap" -n -B "$BC_TCPDUMP_BUF_KB" $filter)
		BC_READY='listening on'
		;;
	netsniff-ng)
		BC_CMD=(ip netns exec "$BC_CAP_NS" "${BC_PRIO_TOOL[@]}" "${pin[@]}"
			netsniff-ng --in "$BC_CAP_IF" --out "$file" --silent --notouch-irq
			--ring-size "$BC_NETSNIFF_RING" $filter)
		BC_READY='Running!'
		BC_NOTE="no snaplen option: writes whole frames"
		;;
	xdpdump)
		BC_CMD=(ip netns exec "$BC_CAP_NS" "${BC_PRIO_TOOL[@]}" "${pin[@]}"
			xdpdump -i "$BC_CAP_IF" -w "$file" -s "$snap")
		BC_READY='listening on'
		BC_NOTE="no filter option: captures every frame"
		;;
	appliance | appliance-host | appliance-bidir | appliance-afxdp | appliance-ringbuf | appliance-transparent)
		# appliance: the default (--ingress-path auto) on the bench's
		# capture end, which has no address: a capture port. appliance-host:
		# the default with an address on it (bc_point adds one): a host
		# interface, so auto picks transparent. The others force a path.
		local mode=ingress path=()
		[ "$tool" = appliance-bidir ] && mode=bidirectional
		case $tool in
		appliance-afxdp | appliance-ringbuf | appliance-transparent)
			path=(--ingress-path "${tool#appliance-}") ;;
		esac
		local env=()
		[ -n "$BC_PRELOAD" ] && env=(env "LD_PRELOAD=$BC_PRELOAD")
		BC_CMD=(ip netns exec "$BC_CAP_NS" "${BC_PRIO_TOOL[@]}" "${pin[@]}" "${env[@]}"
			"$BC_APPLIANCE" start --iface "$BC_CAP_IF" --mode "$mode"
			--filter "$filter" --snaplen "$snap" --dump "${file%.pcap}" "${path[@]}"
			--listen off $BC_APPLIANCE_ARGS)
		BC_READY="$BC_APPLIANCE_READY"
		;;
	appliance-index | appliance-noindex | appliance-query)
		# issue 13: rotation on small files, so the core's background
		# thread indexes a sealed file every few tens of ms; -noindex:
		# start --no-index; -query: an extraction loops against the
		# daemon meanwhile (bc_point). REST on the namespace's loopback
		# for all three, so they differ in nothing else.
		local ix=()
		[ "$tool" = appliance-noindex ] && ix=(--no-index)
		BC_CMD=(ip netns exec "$BC_CAP_NS" "${BC_PRIO_TOOL[@]}" "${pin[@]}"
			"$BC_APPLIANCE" start --iface "$BC_CAP_IF" --mode ingress
			--filter "$filter" --snaplen "$snap" --dump "${file%.pcap}"
			--rotate-size "$BC_ROTATE_SIZE" "${ix[@]}" --listen 127.0.0.1:9000 --no-auth
			$BC_APPLIANCE_ARGS)
		BC_READY="$BC_APPLIANCE_READY"
		;;
	*)
		echo "bench: unknown tool $tool" >&2
		return 1
		;;
	esac
}

# Tools that write rotated files PREFIX-NNNNNNNN-TIME.pcap (and .idx).
bc_rotating() { case $1 in appliance-index | appliance-noindex | appliance-query) return 0 ;; esac; return 1; }

# bc_rot_files PREFIX: the rotated capture files of PREFIX, in order.
bc_rot_files() { compgen -G "$1-[0-9]*.pcap" | sort || true; }

# bc_rot_settled PREFIX: as bc_wait_file_settled, for the files' total size.
bc_rot_settled()
{
	local p=$1 last=-1 same=0 i sz
	for ((i = 0; i < 50; i++)); do
		sz=$(bc_rot_files "$p" | xargs -r stat -c %s | awk '{ s += $1 } END { print s + 0 }')
		if [ "$sz" = "$last" ]; then
			((++same >= 3)) && return 0
		else
			same=0
		fi
		last=$sz
		sleep 0.2
	done
}

# bc_rot_count PREFIX: packets in all rotated files of PREFIX.
bc_rot_count()
{
	local f n=0
	while read -r f; do
		[ -n "$f" ] && n=$((n + $(bc_count_pcap "$f")))
	done < <(bc_rot_files "$1")
	echo "$n"
}

# bc_query_loop: an extraction against the appliance's REST API, again and
# again until stopped (bc_stop query), by the CLI client at nice 19 in the
# capture namespace, answer to /dev/null. BC_QUERY (default 'len > 5000')
# matches nothing and no index can narrow it: each query reads every file
# captured so far, the worst case for the daemon. One line per finished
# query in BC_WORK/queries.
bc_query_loop()
{
	: >"$BC_WORK/queries"
	bc_bg query ip netns exec "$BC_CAP_NS" nice -n 19 bash -c '
		while :; do
			s=$(date +%s.%N)
			if "$0" --server http://127.0.0.1:9000 extract "$1" -w /dev/null "$2" 2>"$3.err"; then
				echo "$s $(date +%s.%N)" >>"$3"
			else
				sleep 0.05
			fi
		done' "$BC_APPLIANCE" "$BC_CAP_IF" "${BC_QUERY:-len > 5000}" "$BC_WORK/queries"
}

# Tools other than the appliance and the ceiling need frames to reach the
# stack: a veth takes XDP frames from its peer only while it has an XDP
# program, so they get the same counting XDP_PASS program.
bc_needs_pass_sink() { case $1 in tcpdump | netsniff-ng | xdpdump) return 0 ;; esac; return 1; }

# bc_appliance_ready: the appliance is up when its XDP program is on the veth
# and it printed something (or BC_APPLIANCE_READY matched).
bc_wait_appliance()
{
	local i
	for ((i = 0; i < 200; i++)); do
		bc_running cap || return 1
		if ip -n "$BC_CAP_NS" link show "$BC_CAP_IF" 2>/dev/null | grep -q ' xdp'; then
			sleep 0.5 # workers bind their sockets after the attach
			bc_running cap
			return
		fi
		sleep 0.05
	done
	return 1
}
