#!/bin/bash
# The appliance drops every capability it does not need before its first
# thread exists: in every thread, the effective, permitted and bounding sets
# hold none of CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_SETUID,
# CAP_SETGID, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_PTRACE, CAP_MKNOD, and
# no_new_privs is set. The filter compiler helper (a child process) runs as
# nobody with no capability. It still does its job: frames are captured, a second
# capture added over REST on another interface attaches and captures, a
# filter change swaps programs, and SIGTERM leaves nothing attached.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" pv

it_start --mode ingress --filter "udp dst port 7777"
bad=0
for st in /proc/"$IT_PID"/task/*/status; do
	for f in CapEff CapPrm CapBnd; do
		v=$((16#$(awk -v f="$f:" '$1 == f { print $2 }' "$st")))
		for bit in 1 2 6 7 16 17 19 27; do
			if (((v >> bit) & 1)); then
				it_log "$st: $f has capability $bit"
				bad=1
			fi
		done
	done
	grep -q "^NoNewPrivs:[[:space:]]*1" "$st" || { it_log "$st: no_new_privs not set"; bad=1; }
done
[ $bad = 0 ] || it_fail "capabilities the appliance does not need are still held"
it_log "threads: $(ls /proc/"$IT_PID"/task | wc -l), none holds a dropped capability"
# the filter compiler helper, a child: nobody, no capability at all
helper=""
for c in $(cat /proc/"$IT_PID"/task/*/children); do
	if grep -Eq "^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534" "/proc/$c/status"; then
		helper=$c
	fi
done
[ -n "$helper" ] || it_fail "no child of the appliance runs as nobody (the compiler helper)"
for f in CapEff CapPrm CapAmb; do
	grep -Eq "^$f:[[:space:]]+0+$" "/proc/$helper/status" ||
		it_fail "the compiler helper holds $(grep "^$f:" "/proc/$helper/status")"
done
grep -Eq "^NoNewPrivs:[[:space:]]+1" "/proc/$helper/status" || it_fail "the helper lacks no_new_privs"
it_log "the compiler helper ($helper) runs as nobody with no capability"

it_send_in --count 100 --tag 1 --expect "$IT_TMP/in.pcap"
it_cap ip link add "${IT_ID}x" type veth peer name "${IT_ID}y"
it_cap ip link set "${IT_ID}x" up
it_cap ip link set "${IT_ID}y" up
it_rest POST /api/v1/captures "{\"name\":\"second\",\"iface\":\"${IT_ID}x\",\"filter\":\"udp\",\"dump\":\"$IT_TMP/second\"}"
[ "$IT_HTTP" = 201 ] || it_fail "a capture added after the drop failed: $IT_HTTP $IT_BODY"
it_rest PUT "/api/v1/captures/$NH_CAP_IF/filter" '"udp dst port 7777 or icmp"'
[ "$IT_HTTP" = 200 ] || it_fail "a filter change after the drop failed: $IT_HTTP $IT_BODY"
it_stop TERM
it_assert_nothing_attached "after SIGTERM"
it_cap ip link show dev "${IT_ID}x" | grep -q xdp && it_fail "XDP left on the second interface"
it_check "$IT_DUMP.pcap" --expect "$IT_TMP/in.pcap" --all-captured --count 100
it_pass "capabilities dropped in every thread; capture, add and filter change still work"
