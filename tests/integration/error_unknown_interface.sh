#!/bin/bash
# start on an interface that does not exist: non-zero exit, a message naming
# the interface, no capture file, and nothing attached anywhere in the namespace.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" eif

it_start_fails --iface itnosuch0 --filter udp --dump "$IT_DUMP"
grep -q "itnosuch0" "$IT_LOG" || it_fail "the message does not name the interface"
grep -qi "no such\|unknown\|not found\|does not exist" "$IT_LOG" || it_fail "the message does not say what is wrong"
[ ! -e "$IT_DUMP.pcap" ] || it_fail "a capture file was created"
it_assert_nothing_attached "a refused start"
it_pass "unknown interface refused: $(head -1 "$IT_LOG")"
