#!/bin/bash
# While traffic flows the file is always valid pcap: read mid-capture it has
# complete records only (tcpdump, capinfos and pcapcheck agree, no torn
# record, every record a frame that was sent), growing between reads; and
# the writer flushes by itself: without stopping the appliance, every frame
# reaches the file (flush_ms is 200; the test allows 10 s on a loaded
# machine and logs how long it took).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" pv

it_start --mode bidirectional --filter udp
# The expected frames are known before they are sent (send.py is
# deterministic): write them first, so mid-capture reads can be checked.
it_send_in --count 5000 --rate 1000 --tag 1 --expect "$IT_TMP/in.pcap" --dry-run
it_send_in --count 5000 --rate 1000 --tag 1 &
ps=$!
prev=0 reads=0
while kill -0 $ps 2>/dev/null; do
	sleep 0.4
	cp "$IT_DUMP.pcap" "$IT_TMP/snap.pcap"
	# Fast checks only (capinfos is slow to start): complete records, all
	# of them sent frames, and tcpdump reads it without complaint.
	python3 "$IT_DIR/pcapcheck.py" "$IT_TMP/snap.pcap" --expect "$IT_TMP/in.pcap" \
		--no-other --no-dup >"$IT_TMP/snap.out" ||
		it_fail "mid-capture read: $(cat "$IT_TMP/snap.out")"
	tcpdump -nn -r "$IT_TMP/snap.pcap" >/dev/null 2>"$IT_TMP/snap.err" &&
		! grep -qi "truncated\|error" "$IT_TMP/snap.err" ||
		it_fail "mid-capture tcpdump -r: $(cat "$IT_TMP/snap.err")"
	n=$(sed -n 's/.* records=\([0-9]*\) .*/\1/p' "$IT_TMP/snap.out")
	[ "$n" -ge "$prev" ] || it_fail "file shrank from $prev to $n records"
	prev=$n reads=$((reads + 1))
done
wait $ps || it_fail "sender failed"
[ "$reads" -ge 2 ] || it_fail "only $reads reads while traffic flowed; slow machine?"
[ "$prev" -gt 0 ] || it_fail "nothing in the file while capturing (no flush within the run)"
# on disk without a stop: the writer flushes by itself (flush_ms 200; up to
# 10 s allowed for a loaded machine)
t0=$(date +%s%N)
for ((t = 0; t < 100; t++)); do
	cp "$IT_DUMP.pcap" "$IT_TMP/snap.pcap"
	[ "$(it_records "$IT_TMP/snap.pcap" || true)" = 5000 ] && break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
it_check "$IT_TMP/snap.pcap" --expect "$IT_TMP/in.pcap" --all-captured --no-other --count 5000
it_stop
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --no-other --count 5000
it_pass "$reads mid-capture reads all valid; all 5000 frames on disk $ms ms after the last was sent"
