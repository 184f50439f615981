# shellcheck shell=bash
# bc_point: one measurement. Starts TOOL on the capture veth, offers COUNT
# frames from the peer namespace, stops TOOL, counts the packets in its file,
# appends one JSON line to $BC_POINTS. Sourced by run.sh (needs lib.sh).
#
#   bc_point GROUP TOOL SIZE FILTER SNAPLEN RATE COUNT GEN_THREADS REP

bc_point()
{
	local group=$1 tool=$2 size=$3 filter=$4 snap=$5 rate=$6 count=$7 threads=$8 rep=$9
	local file="$BC_WORK/cap-$tool.pcap" ok=true error="" note="" captured=0
	local gen_cpus=$BC_GEN_CPU
	local cpu fbytes load sink_json="" app_stats=""

	((threads > 1)) && gen_cpus=$(seq -s, 0 $((threads - 1))) # one per CPU
	rm -f "$file" "$BC_WORK/gen.json"
	bc_rotating "$tool" && rm -f "${file%.pcap}"-[0-9]*.pcap "${file%.pcap}"-[0-9]*.pcap.idx
	load=$(cut -d' ' -f1 /proc/loadavg)

	bc_cap_cmd "$tool" "$filter" "$snap" "$file" || return 1
	note=$BC_NOTE
	if bc_needs_pass_sink "$tool"; then
		bc_bg sink ip netns exec "$BC_CAP_NS" "$BC_SINK" --iface "$BC_CAP_IF"
		bc_wait_ready sink '^attached' 10 || { ok=false; error="pass sink: $(bc_reason sink)"; }
	fi
	# a host interface: the capture end gets its address for this point only
	[ "$tool" = appliance-host ] &&
		ip -n "$BC_CAP_NS" addr add "$NH_CAP_IP/$NH_PREFIXLEN" dev "$BC_CAP_IF" 2>/dev/null
	[ "$size" -gt 64 ] && [ "$snap" -gt 65535 ] && sync # no earlier point's dirty pages
	if $ok; then
		bc_bg cap "${BC_CMD[@]}"
		if ! bc_wait_ready cap "$BC_READY" 30; then
			ok=false
			error="did not start: $(bc_reason cap)"
		elif [[ $tool == appliance* ]] && ! bc_wait_appliance; then
			ok=false
			error="no XDP program on the veth: $(bc_reason cap)"
		fi
		sleep 0.3 # let the tool settle (ring set-up, first poll)
	fi
	$ok && [ "$tool" = appliance-query ] && bc_query_loop
	if $ok; then
		local perf=()
		[ -n "${BC_PERF_DIR:-}" ] && perf=(perf record -q -a -g -o "$BC_PERF_DIR/perf-$tool.data" --)
		"${perf[@]}" ip netns exec "$BC_PEER_NS" "${BC_PRIO[@]}" "$BC_PKTGEN" --iface "$BC_PEER_IF" \
			--count "$count" --size "$size" --rate "$rate" --threads "$threads" \
			--cpus "$gen_cpus" --flows "$BC_FLOWS" --json >"$BC_WORK/gen.json" 2>"$BC_WORK/gen.err" ||
			{ ok=false; error="generator: $(tail -n1 "$BC_WORK/gen.err")"; }
		if bc_rotating "$tool"; then
			bc_rot_settled "${file%.pcap}"
		elif [ "$tool" != ceiling ]; then
			bc_wait_file_settled "$file"
		fi
	fi
	if [ "$tool" = appliance-query ]; then
		bc_stop query TERM
		note="${note:+$note; }$(wc -l <"$BC_WORK/queries") queries done"
	fi
	bc_stop cap INT
	if $ok && ! grep -q '^0$' "$BC_WORK/cap.rc" 2>/dev/null && [ "$tool" != ceiling ]; then
		# tcpdump & co. exit 0 on SIGINT; anything else is worth a look
		note="${note:+$note; }exit status $(cat "$BC_WORK/cap.rc" 2>/dev/null): $(bc_reason cap)"
	fi
	cpu=$(bc_cpu_seconds cap)
	if [[ $tool == appliance* ]]; then
		app_stats=$(grep -o 'final .*' "$BC_WORK/cap.err" | tail -n1)
		note="${note:+$note; }ingress via $(bc_app_path)"
	fi
	[ "$tool" = appliance-host ] && ip -n "$BC_CAP_NS" addr flush dev "$BC_CAP_IF"
	if bc_needs_pass_sink "$tool"; then
		bc_stop sink INT
		sink_json=$(grep '^{' "$BC_WORK/sink.out" | tail -n1)
	fi
	if [ "$tool" = ceiling ]; then
		sink_json=$(grep '^{' "$BC_WORK/cap.out" | tail -n1)
		captured=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' <<<"$sink_json")
		fbytes=0
		cpu=0
	elif $ok && bc_rotating "$tool"; then
		local p=${file%.pcap}
		captured=$(bc_rot_count "$p")
		fbytes=$(bc_rot_files "$p" | xargs -r stat -c %s | awk '{ s += $1 } END { print s + 0 }')
		note="${note:+$note; }$(bc_rot_files "$p" | wc -l) files, $(compgen -G "$p-[0-9]*.pcap.idx" | wc -l) indexes"
	elif $ok; then
		captured=$(bc_count_pcap "$file")
		fbytes=$(stat -c %s "$file" 2>/dev/null || echo 0)
		[ -s "$file" ] || note="${note:+$note; }no file written"
	fi
	rm -f "$file"
	bc_rotating "$tool" && rm -f "${file%.pcap}"-[0-9]*.pcap "${file%.pcap}"-[0-9]*.pcap.idx

	BP_GROUP=$group BP_TOOL=$tool BP_SIZE=$size BP_FILTER=$filter BP_SNAP=$snap \
	BP_RATE=$rate BP_COUNT=$count BP_THREADS=$threads BP_REP=$rep BP_QUEUES=$BC_QUEUES \
	BP_OK=$ok BP_ERROR=$error BP_NOTE=$note BP_LOAD=$load BP_GEN="$BC_WORK/gen.json" \
	BP_SINK=$sink_json BP_CAPTURED=${captured:-0} BP_CPU=${cpu:-0} BP_FBYTES=${fbytes:-0} \
	BP_APP=$app_stats python3 "$BC_DIR/point.py" >>"$BC_POINTS"
	tail -n1 "$BC_POINTS" | python3 "$BC_DIR/point.py" --show
}
