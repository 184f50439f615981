#!/bin/bash
# start with a malformed --listen (no port, port out of range, junk) is
# refused before anything is attached; every line it prints has the one
# prefix "capture-appliance:". A refused filter comes without the warning
# about a capture-port path on an interface with addresses (the capture
# interface has one): that warning is only about a capture that runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" lbl

one_prefix()
{
	local bad
	bad=$(grep -v '^capture-appliance: ' "$IT_LOG" | grep -v '^Usage\|^ \|^$' || true)
	[ -z "$bad" ] || it_fail "$1: lines without the 'capture-appliance:' prefix: $bad"
}

for l in 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 127.0.0.1:9000s ':9000' 'a b:9000' \
	'[::1:9000' 127.0.0.1:x; do
	it_start_fails --iface "$NH_CAP_IF" --filter udp --dump "$IT_DUMP" --listen "$l"
	grep -qF "'$l'" "$IT_LOG" || it_fail "listen '$l': the message does not name it"
	grep -q "takes matching frames away" "$IT_LOG" && it_fail "listen '$l': warned about the interface"
	grep -q "capture .* on $NH_CAP_IF" "$IT_LOG" && it_fail "listen '$l': a capture was started"
	[ ! -e "$IT_DUMP.pcap" ] || it_fail "listen '$l': a capture file was created"
	one_prefix "listen '$l'"
	it_assert_nothing_attached "a refused start (listen '$l')"
done

it_start_fails --iface "$NH_CAP_IF" --filter "udp port" --dump "$IT_DUMP"
grep -q "takes matching frames away" "$IT_LOG" && it_fail "bad filter: warned about the interface's addresses"
one_prefix "bad filter"
it_assert_nothing_attached "a refused filter"

# The same interface, a good filter, a capture-port path forced: warned.
it_start --filter udp --listen 127.0.0.1:9001 --ingress-path afxdp
grep -q "takes matching frames away" "$IT_LOG" || it_fail "no warning about the interface's addresses"
it_stop INT
it_pass "bad --listen refused before attaching; one message prefix; warning only for a running capture"
