#!/bin/bash
# Without --dump the file is ${TMPDIR:-/tmp}/NAME.pcap, NAME defaulting to
# the interface's name; an existing file there is replaced (no stale bytes
# of it survive, not even past the end of the new capture).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" ddp

for name in "" named; do
	file=$IT_TMP/${name:-$NH_CAP_IF}.pcap
	head -c 3000000 /dev/urandom >"$file" # bigger than the capture will be
	args=(--mode ingress --filter udp)
	[ -z "$name" ] || args+=(--name "$name")
	# TMPDIR reaches the appliance through ip netns exec's environment.
	TMPDIR=$IT_TMP IT_NO_DUMP=1 it_start "${args[@]}"
	grep -qF "$file" "$IT_LOG" || it_fail "start-up line does not name $file"
	it_send_in --count 200 --tag 1 --expect "$IT_TMP/in.pcap"
	it_stop
	it_check "$file" --expect "$IT_TMP/in.pcap" --all-captured --no-other --count 200
	it_log "${name:-<default name>}: $file replaced, 200 records"
done
[ ! -e "$IT_DUMP.pcap" ] || it_fail "wrote the test's own default dump instead"
it_pass "default dump path used, existing files replaced"
