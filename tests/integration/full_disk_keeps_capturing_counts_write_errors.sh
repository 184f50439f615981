#!/bin/bash
# The dump folder fills up during a capture (a 64 KiB tmpfs in a private
# mount namespace): the appliance keeps running, counts write errors in its
# stats and at exit (with the reason: no space), exits 0 on SIGINT, and the file stays a valid pcap
# holding only whole records (those that fit).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" fdk

# A process holding a private mount namespace with the small tmpfs; the
# appliance and every reader of the file enter it (tmpfs dies with it).
mkdir "$IT_TMP/full"
unshare -m --propagation private sleep infinity &
HOLD=$!
nh_cleanup_add "kill $HOLD 2>/dev/null || true"
# until the holder is in its own mount namespace (else nsenter enters ours)
for ((i = 0; i < 100; i++)); do
	[ "$(readlink "/proc/$HOLD/ns/mnt" 2>/dev/null || true)" != "$(readlink /proc/self/ns/mnt)" ] &&
		[ -n "$(readlink "/proc/$HOLD/ns/mnt" 2>/dev/null || true)" ] && break
	sleep 0.05
done
in_mnt() { nsenter -m -t "$HOLD" "$@"; }
in_mnt mount -t tmpfs -o size=64k tmpfs "$IT_TMP/full" || it_fail "cannot mount the tmpfs"
# Not visible from here: the mount is private to the holder.
mountpoint -q "$IT_TMP/full" && it_fail "tmpfs leaked into the test's mount namespace"

IT_LOG=$IT_TMP/appliance.log
nsenter -m -t "$HOLD" ip netns exec "$NH_CAP_NS" "$IT_BIN" start --iface "$NH_CAP_IF" \
	--mode ingress --filter udp --dump "$IT_TMP/full/cap" --stats-interval 0 \
	>"$IT_LOG" 2>&1 &
IT_PID=$!
nh_cleanup_add "it_kill_appliance $IT_PID"
for ((i = 0; i < 200; i++)); do
	grep -q "REST API on" "$IT_LOG" && break
	kill -0 "$IT_PID" 2>/dev/null || it_fail "appliance exited before it was ready"
	sleep 0.05
done
grep -q "REST API on" "$IT_LOG" || it_fail "appliance not ready after 10 s"

# write_errors_above N: polls the stats (10 s) until write_errors > N;
# sets werr (empty if the stats never said)
write_errors_above()
{
	local i
	for ((i = 0; i < 100; i++)); do
		it_rest GET /api/v1/captures/"$NH_CAP_IF"/stats
		werr=$(echo "$IT_BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["write_errors"])' \
			2>/dev/null) || werr=""
		[ -n "$werr" ] && [ "$werr" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# ~300 KiB of frames into a 64 KiB folder.
it_send_in --count 300 --sizes 1000 --rate 2000 --expect "$IT_TMP/sent.pcap"
write_errors_above 0 || it_fail "write_errors is '$werr' after filling the disk: $IT_HTTP $IT_BODY"
kill -0 "$IT_PID" 2>/dev/null || it_fail "appliance died when the disk filled"
# ... and say why
why=$(echo "$IT_BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["write_error"])') ||
	it_fail "no write_error reason in the stats: $IT_BODY"
[ "$why" = "No space left on device" ] || it_fail "stats write_error is '$why', want ENOSPC's reason"

# Still capturing: a second burst is matched (and fails to write, counted).
it_send_in --count 50 --sizes 1000 --seq-base 1000
werr1=$werr
write_errors_above "$werr1" ||
	it_fail "write_errors did not grow with more traffic ($werr1 -> $werr)"
werr2=$werr

it_stop INT
fin=$(it_final_counter "write errors")
[ "$fin" -ge "$werr2" ] || it_fail "final line: write errors $fin, stats said $werr2"
grep "final" "$IT_LOG" | grep -q "first write error: No space left on device" ||
	it_fail "the final counter line does not give the write error's reason"

in_mnt cat "$IT_TMP/full/cap.pcap" >"$IT_TMP/kept.pcap" || it_fail "no capture file on the full disk"
size=$(stat -c %s "$IT_TMP/kept.pcap")
[ "$size" -gt 24 ] || it_fail "capture file holds no record ($size bytes)"
[ "$size" -le 65536 ] || it_fail "capture file larger than the disk ($size bytes)"
it_check "$IT_TMP/kept.pcap"
n=$(it_records "$IT_TMP/kept.pcap")
[ "$n" -gt 0 ] && [ "$n" -lt 300 ] || it_fail "unexpected record count $n"
it_pass "full disk: kept capturing, $werr2 write errors counted, $n whole records kept ($size bytes)"
