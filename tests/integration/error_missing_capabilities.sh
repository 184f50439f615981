#!/bin/bash
# start without the capabilities it needs (root with CAP_NET_ADMIN, CAP_BPF
# and CAP_SYS_ADMIN dropped from the bounding set, and as an unprivileged
# user): non-zero exit, a message saying what is missing, nothing attached,
# no capture file.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" ecap

for how in drop-caps nobody; do
	if [ $how = drop-caps ]; then
		run=(setpriv --bounding-set=-net_admin,-bpf,-sys_admin --inh-caps=-all)
	else
		chmod 755 "$IT_TMP"
		run=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all)
	fi
	IT_RC=0
	IT_LOG=$IT_TMP/$how.log
	timeout 30 ip netns exec "$NH_CAP_NS" "${run[@]}" "$IT_BIN" start --iface "$NH_CAP_IF" \
		--filter udp --dump "$IT_DUMP" --stats-interval 0 >"$IT_LOG" 2>&1 || IT_RC=$?
	it_log "$how: exit status $IT_RC: $(tr '\n' ' ' <"$IT_LOG" | cut -c1-300)"
	[ $IT_RC -ne 0 ] && [ $IT_RC -ne 124 ] || it_fail "$how: start did not refuse (status $IT_RC)"
	grep -Eqi "root|permi|capabilit|CAP_" "$IT_LOG" || it_fail "$how: the message does not say what is missing"
	[ ! -e "$IT_DUMP.pcap" ] || it_fail "$how: a capture file was created"
	it_assert_nothing_attached "a start without privileges ($how)"
done
it_pass "refused without privileges"
