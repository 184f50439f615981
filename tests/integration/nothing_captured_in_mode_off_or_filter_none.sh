#!/bin/bash
# Argument 2 "off": --mode off --filter udp; "none": the default filter
# (none). The appliance stays attached, traffic flows both ways, and the
# pcap is a valid file with no record; every ingress frame still reaches
# the host's stack.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
what=$2
it_init "$1" "n${what:0:2}"

if [ "$what" = off ]; then
	it_start --mode off --filter udp
else
	it_start --mode bidirectional   # filter left at its default
	grep -q "filter 'none'" "$IT_LOG" || it_fail "default filter is not 'none'"
fi
[ -n "$(it_attached)" ] || it_fail "nothing attached while running (mode off must stay attached)"
it_sink_start
it_send_in --count 300 --tag 1 --expect "$IT_TMP/in.pcap"
it_send_out --count 300 --tag 2 --expect "$IT_TMP/out.pcap"
it_send_out_udp --count 100 --tag 3 --expect "$IT_TMP/udp.pcap"
it_sink_stop
[ "$IT_SINK_GOT" -eq 300 ] || it_fail "the host's stack got $IT_SINK_GOT of 300 ingress datagrams (frames must pass on)"
it_stop
it_check "$IT_DUMP.pcap" --count 0
it_pass "$what: nothing captured"
