#!/bin/bash
# Continuous capture, end to end (argument 2 picks the behaviour):
# size     --rotate-size: the records over all files equal what was sent,
#          each file at most the size plus one record, every file read by
#          tcpdump -r and capinfos, names in time order; GET .../files lists
#          them (records add up, all but the last sealed) and serves a sealed
#          one byte-identical, refuses the open one (409) and a planted link
# time     --rotate-time 2 for 7 s: every file's records lie inside one
#          UTC-aligned 2-s window
# retain   --retain-bytes, then a restart on the same prefix with more
#          traffic: the files never take more than the budget plus one file,
#          no name is reused, the sequence goes on
# pcapng   --format pcapng, both directions: tshark sees both directions in
#          the records' flags, the statistics blocks' filteraccept counters
#          equal those REST reports (ifrecv: at least REST's, frames such as
#          neighbour solicitations may come between the read and the stop),
#          tcpdump reads the file
# sigkill  SIGKILL while rotating: every file stays readable, the next start
#          goes on with the sequence
set -euo pipefail
source "$(dirname "$0")/lib.sh"
what=$2
it_init "$1" "r${what:0:3}"

# the capture's files (not the .idx beside them)
files()
{
	local f
	for f in "$IT_DUMP"-*.pcap "$IT_DUMP"-*.pcapng; do
		if [ -e "$f" ]; then echo "$f"; fi
	done | sort
}
records() { capinfos -c -M "$1" 2>/dev/null | awk '/Number of packets/ { print $NF }'; }
all_readable()
{
	local f
	for f in $(files); do
		tcpdump -r "$f" -c 1 >/dev/null 2>&1 || [ "$(records "$f")" = 0 ] ||
			it_fail "tcpdump can't read $f"
		capinfos "$f" >/dev/null 2>&1 || it_fail "capinfos can't read $f"
	done
}

case $what in
size)
	it_start --mode ingress --filter "udp dst port 7777" --rotate-size 64k
	it_send_in --count 600 --sizes 1000 --rate 3000 --tag 1 --expect "$IT_TMP/in.pcap"
	# all on disk first: a record still in the merge window could rotate the
	# file listed as open before it is asked for (CI saw a 200 for it once)
	it_wait_written 600
	it_rest GET "/api/v1/captures/$NH_CAP_IF/files"
	[ "$IT_HTTP" = 200 ] || it_fail "files: $IT_HTTP $IT_BODY"
	jq -r '.[].name' <<<"$IT_BODY" >"$IT_TMP/listed"
	n=$(wc -l <"$IT_TMP/listed")
	((n >= 8)) || it_fail "only $n files for 600 KB at 64 KiB each"
	[ "$(jq '[.[] | select(.sealed)] | length' <<<"$IT_BODY")" = $((n - 1)) ] ||
		it_fail "want all but the newest sealed: $IT_BODY"
	sealed=$(head -1 "$IT_TMP/listed")
	open=$(tail -1 "$IT_TMP/listed")
	it_cap curl -s -o "$IT_TMP/dl" -H "Authorization: Bearer $(cat /run/capture-appliance/api.token)" \
		"http://127.0.0.1:9000/api/v1/captures/$NH_CAP_IF/files/$sealed"
	cmp -s "$IT_TMP/dl" "$(dirname "$IT_DUMP")/$sealed" || it_fail "download differs from $sealed"
	it_rest GET "/api/v1/captures/$NH_CAP_IF/files/$open"
	[ "$IT_HTTP" = 409 ] || it_fail "the open file was served: $IT_HTTP"
	it_rest GET "/api/v1/captures/$NH_CAP_IF/files/..%2F..%2Fetc%2Fpasswd"
	[ "$IT_HTTP" = 404 ] || it_fail "a path outside was served: $IT_HTTP"
	it_stop
	all_readable
	total=0
	for f in $(files); do
		r=$(records "$f")
		total=$((total + r))
		sz=$(stat -c %s "$f")
		((sz <= 65536 + 16 + 1000)) || it_fail "$f has $sz bytes: more than 64 KiB plus a record"
	done
	[ "$total" = 600 ] || it_fail "the files hold $total records, 600 sent"
	[ "$(files | xargs -n1 basename)" = "$(files | xargs -n1 basename | sort)" ] ||
		it_fail "names do not sort"
	it_pass "$(files | wc -l) files, 600 records, each at most 64 KiB + one record"
	;;
time)
	it_start --mode ingress --filter "udp dst port 7777" --rotate-time 2
	it_send_in --count 700 --rate 100 --tag 1 --expect "$IT_TMP/in.pcap"
	it_stop
	all_readable
	n=0 total=0
	for f in $(files); do
		r=$(records "$f")
		total=$((total + r))
		[ "$r" = 0 ] && continue
		n=$((n + 1))
		# every record's second lies in [w, w + 2) with w even (UTC)
		tcpdump -tt -nr "$f" 2>/dev/null | awk '{ split($1, t, "."); print t[1] }' |
			sort -u >"$IT_TMP/secs"
		lo=$(head -1 "$IT_TMP/secs")
		hi=$(tail -1 "$IT_TMP/secs")
		w=$((lo - lo % 2))
		((hi < w + 2)) || it_fail "$f spans $lo..$hi: more than one 2-s window"
	done
	[ "$total" = 700 ] || it_fail "$total records in the files, 700 sent"
	((n >= 3)) || it_fail "only $n files with records over 7 s"
	it_pass "$n files over 7 s, each inside one aligned 2-s window, 700 records"
	;;
retain)
	budget=$((256 * 1024))
	it_start --mode ingress --filter "udp dst port 7777" --rotate-size 64k --retain-bytes 256k
	it_send_in --count 800 --sizes 1000 --rate 4000 --tag 1
	it_stop
	files | xargs -n1 basename >"$IT_TMP/first-run"
	last1=$(tail -1 "$IT_TMP/first-run" | cut -d- -f2)
	it_start --mode ingress --filter "udp dst port 7777" --rotate-size 64k --retain-bytes 256k
	for i in 1 2 3; do
		it_send_in --count 300 --sizes 1000 --rate 4000 --tag $((i + 1))
		# every record written first; the reaper thread deletes just after
		# a rotation, so the sum is polled for a few seconds
		it_wait_written $((300 * i))
		for ((t = 0; t < 50; t++)); do
			# retention may delete a listed file before stat sees it: it takes nothing then
			sum=$({ files | xargs -r stat -c %s 2>/dev/null || true; } |
				awk '{ s += $1 } END { print s + 0 }')
			((sum <= budget + 65536 + 1016)) && break
			sleep 0.1
		done
		((sum <= budget + 65536 + 1016)) || it_fail "files take $sum bytes, budget $budget"
	done
	it_stop
	files | xargs -n1 basename >"$IT_TMP/second-run"
	first2=$(grep -v -x -f "$IT_TMP/first-run" "$IT_TMP/second-run" | head -1 | cut -d- -f2)
	((10#$first2 > 10#$last1)) || it_fail "the restart reused numbers: $last1 then $first2"
	[ -z "$(comm -12 "$IT_TMP/first-run" "$IT_TMP/second-run" | grep -v -x "$(tail -1 "$IT_TMP/first-run")" || true)" ] ||
		true # older files of the first run may stay if the budget allows
	all_readable
	it_pass "the files stayed within $budget + one file; the sequence went on from $last1 to $first2"
	;;
pcapng)
	it_start --mode bidirectional --filter "udp port 7777" --format pcapng
	it_send_in --count 200 --tag 1 --expect "$IT_TMP/in.pcap"
	it_send_out --count 150 --tag 2 --expect "$IT_TMP/out.pcap"
	sleep 1.5 # let the writer flush before the counters are read
	it_rest GET "/api/v1/captures/$NH_CAP_IF/stats"
	stats=$IT_BODY
	it_stop
	f=$IT_DUMP.pcapng
	[ -f "$f" ] || it_fail "no $f"
	[ -n "${KEEP_PCAPNG:-}" ] && cp "$f" "$KEEP_PCAPNG"
	[ "$(tcpdump -nr "$f" 2>/dev/null | wc -l)" = 350 ] || it_fail "tcpdump -r does not read 350 records"
	tshark -r "$f" -T fields -e frame.packet_flags_direction 2>/dev/null | sort | uniq -c >"$IT_TMP/dirs"
	grep -Eq "^ *200 (0x0*1|1)$" "$IT_TMP/dirs" && grep -Eq "^ *150 (0x0*2|2)$" "$IT_TMP/dirs" ||
		it_fail "directions: $(cat "$IT_TMP/dirs")"
	# the last statistics block of each interface against REST's counters
	python3 - "$f" "$stats" <<'PY' || it_fail "ISB counters differ from REST's"
import json, struct, sys
d = open(sys.argv[1], "rb").read()
st = json.loads(sys.argv[2])
isb, off = {}, 0
while off < len(d):
    t, ln = struct.unpack("<II", d[off:off + 8])
    if t == 5:  # ISB: if_id, timestamp, options
        ifid = struct.unpack("<I", d[off + 8:off + 12])[0]
        opts, o = {}, off + 20
        while o < off + ln - 4:
            code, olen = struct.unpack("<HH", d[o:o + 4])
            if code == 0:
                break
            opts[code] = d[o + 4:o + 4 + olen]
            o += 4 + ((olen + 3) & ~3)
        isb[ifid] = {k: struct.unpack("<Q", v)[0] for k, v in opts.items() if len(v) == 8}
    off += ln
# 4 ifrecv, 6 filteraccept
want = {0: (st["seen_in"], st["matched_in"]), 1: (st["seen_out"], st["matched_out"])}
for ifid, (seen, matched) in want.items():
    got = (isb[ifid].get(4), isb[ifid].get(6))
    print("if", ifid, "ISB ifrecv/filteraccept", got, "REST", (seen, matched))
    if got[1] != matched or got[0] is None or got[0] < seen or got[0] > seen + 20:
        sys.exit(1)
PY
	it_pass "pcapng: 200 in + 150 out with their directions, ISB = REST counters"
	;;
sigkill)
	it_start --mode ingress --filter "udp dst port 7777" --rotate-size 32k
	it_send_in --count 300 --sizes 1000 --rate 3000 --tag 1 &
	sender=$!
	sleep 0.5
	kill -KILL "$IT_PID"
	wait "$sender" || true
	wait "$IT_PID" 2>/dev/null || true
	# the guardian repairs the open file: until capinfos reads every file
	for ((t = 0; t < 100; t++)); do
		bad=0
		for f in $(files); do
			capinfos "$f" >/dev/null 2>&1 || bad=1
		done
		[ $bad = 0 ] && break
		sleep 0.1
	done
	all_readable
	last1=$(files | tail -1 | xargs basename | cut -d- -f2)
	it_start --mode ingress --filter "udp dst port 7777" --rotate-size 32k
	it_send_in --count 50 --sizes 1000 --rate 1000 --tag 2
	it_stop
	all_readable
	next=$(files | xargs -n1 basename | cut -d- -f2 | awk -v l="$last1" '$1 > l' | head -1)
	[ -n "$next" ] || it_fail "the restart did not go on after $last1"
	it_pass "after SIGKILL every file readable; the sequence went on after $last1"
	;;
*) it_fail "usage: $0 BIN size|time|retain|pcapng|sigkill" ;;
esac
