#!/bin/bash
# The threads that empty the kernel's ring buffers outrank the writer: the
# writer thread ("ca-writer") runs at nice +5 from the ring consumers
# ("ca-ringbufN"), and under a real-time policy (chrt -f 10) one step lower
# (FIFO 9 against 10). A consumer a scheduler slice late loses frames; a
# writer that late only fills its pool. Frames are still all captured.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" wyc

# thread_sched NAME-PATTERN: "nice policy rt_priority" of the appliance's
# threads whose name matches, one line each
thread_sched()
{
	local t comm rest
	for t in /proc/"$IT_PID"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		[[ $comm =~ $1 ]] || continue
		rest=$(sed 's/.*) //' "$t/stat")
		# after the name: field 3 is the first; nice is 19, rt_priority
		# 40, policy 41
		awk '{ print $17, $39, $38 }' <<<"$rest"
	done
}

check()
{
	local want_w=$1 want_c=$2 w c
	w=$(thread_sched '^ca-writer$' | sort -u)
	c=$(thread_sched '^ca-ringbuf[0-9]+$' | sort -u)
	[ -n "$w" ] || it_fail "no ca-writer thread"
	[ -n "$c" ] || it_fail "no ca-ringbuf thread"
	[ "$(wc -l <<<"$c")" = 1 ] || it_fail "ring consumers differ: $c"
	[ "$c" = "$want_c" ] || it_fail "ring consumers: '$c' (nice policy rt_prio), want '$want_c'"
	[ "$w" = "$want_w" ] || it_fail "writer: '$w' (nice policy rt_prio), want '$want_w'"
	it_log "writer '$w', ring consumers '$c' (nice policy rt_priority)"
}

traffic()
{
	it_send_in --count 300 --sizes 1514 --tag "$1" --expect "$IT_TMP/in$1.pcap"
	it_stop
	it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in$1.pcap" --all-captured --no-other --no-dup \
		--count 300
}

# the normal policy (0), the appliance at nice 0
it_start --mode ingress --filter "udp dst port 7777" --ingress-path ringbuf
check "5 0 0" "0 0 0"
traffic 1

# a real-time policy inherited from chrt: SCHED_FIFO (1)
printf '#!/bin/sh\nexec chrt -f 10 %s "$@"\n' "$IT_BIN" >"$IT_TMP/rt.sh"
chmod 755 "$IT_TMP/rt.sh"
REAL_BIN=$IT_BIN
IT_BIN=$IT_TMP/rt.sh
it_start --mode ingress --filter "udp dst port 7777" --ingress-path ringbuf
IT_BIN=$REAL_BIN
check "0 1 9" "0 1 10"
traffic 2
it_pass "the writer yields to the ring consumers (nice +5; FIFO one step lower); 300 + 300 frames captured"
