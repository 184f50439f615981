#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs test_capture on one end of a 4-queue veth between two netns; the
# traffic comes from the other end.
#   run_capture.sh TEST_BIN SEND_PY
set -euo pipefail
bin=$1 send=$2
tag=c ltag=c net=10.77.1
# shellcheck source=netns.sh
. "$(dirname "$0")/../afxdp/netns.sh"

# 2 flows (ports 40100, 40101), 100 ms pause per 200 (~2000/s) until the
# test creates $out/stop.
ip netns exec "$ns" "$bin" "$a" "$out" \
	"ip netns exec $pns python3 $send 10.77.1.1 0 40100 2 100 $out/stop" \
	"ip netns exec $pns python3 $send 10.77.1.1 100 40100 1"
