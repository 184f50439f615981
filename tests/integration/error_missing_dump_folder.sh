#!/bin/bash
# start with a dump path whose folder is missing, or is a file: non-zero
# exit, a message naming the path, nothing created, nothing left attached.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" edf

for dump in "$IT_TMP/missing/dir/cap" "$IT_TMP/afile/cap"; do
	: >"$IT_TMP/afile"
	it_start_fails --iface "$NH_CAP_IF" --mode bidirectional --filter udp --dump "$dump"
	grep -q "$(dirname "$dump")" "$IT_LOG" || it_fail "the message does not name the folder"
	[ ! -e "$dump.pcap" ] || it_fail "$dump.pcap created"
	[ ! -e "$IT_TMP/missing" ] || it_fail "the missing folder was created"
	it_assert_nothing_attached "a refused start (dump $dump)"
done
it_pass "missing or non-folder dump path refused"
