#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds two netns joined by a veth with 4 RX/TX queues and runs
# test_afxdp_mq on one end while send_udp.py sends from the other.
#   run_mq.sh TEST_BIN BPF_OBJ SEND_PY COUNT FLOWS SNAPLEN
set -euo pipefail
bin=$1 obj=$2 send=$3 count=$4 flows=$5 snaplen=$6
tag=mq ltag=q net=10.77.0
# shellcheck source=netns.sh
. "$(dirname "$0")/netns.sh"
ip -n "$pns" link set lo up

ip netns exec "$ns" "$bin" "$a" "$obj" "$out" "$count" "$flows" "$snaplen" \
	"ip netns exec $pns python3 $send 10.77.0.1 $count 40100 $flows"
