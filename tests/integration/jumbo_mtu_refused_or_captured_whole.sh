#!/bin/bash
# An interface whose MTU (9000) is larger than an AF_XDP frame holds: the
# appliance either refuses to start with a message about the MTU/frame size
# (non-zero exit, nothing attached), or captures jumbo frames whole (caplen
# and wire length 9014, bytes as sent). Never silently cut. Argument 2:
# "afxdp" (--ingress-path afxdp), "ringbuf" (--ingress-path ringbuf) or
# "transparent" (the ring-buffer path, frames passed on).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
path=${2:-afxdp}
it_init "$1" "j${path:0:2}" --mtu 9000
case $path in
afxdp | ringbuf) extra=(--ingress-path "$path") ;;
*) extra=(--transparent) ;;
esac

log=$IT_TMP/try.log
ip netns exec "$NH_CAP_NS" "$IT_BIN" start --iface "$NH_CAP_IF" --dump "$IT_DUMP" \
	--stats-interval 0 --mode ingress --filter udp "${extra[@]}" >"$log" 2>&1 &
IT_PID=$!
IT_LOG=$log
nh_cleanup_add "it_kill_appliance $IT_PID"
for ((i = 0; i < 300; i++)); do
	grep -q "REST API on" "$log" && break
	kill -0 $IT_PID 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 $IT_PID 2>/dev/null; then
	rc=0
	wait $IT_PID || rc=$?
	[ $rc -ne 0 ] || it_fail "exited with status 0 without capturing"
	grep -Eqi "mtu|frame size|too (big|large)" "$log" || it_fail "refused without saying why (MTU)"
	it_assert_nothing_attached "a refused start"
	it_pass "$path, MTU 9000 refused: $(grep -Ei "mtu|frame size|too (big|large)" "$log" | grep -v warning | head -1)"
	exit 0
fi
grep -q "REST API on" "$log" || it_fail "not ready after 30 s"
it_log "started with MTU 9000: $(grep -i "capture .* on" "$log")"
it_send_in --count 100 --rate 500 --sizes 9014,4000,1514,60 --tag 1 --expect "$IT_TMP/in.pcap"
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --no-other --snaplen 262144
it_pass "$path, MTU 9000: jumbo frames captured whole"
