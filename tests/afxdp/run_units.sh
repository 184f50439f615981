#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs test_afxdp_units in its own netns with two veths: MTU 9000 and 1500.
#   run_units.sh TEST_BIN BPF_OBJ
set -euo pipefail
bin=$1 obj=$2
id="$$$RANDOM"
id=${id:0:8}
ns=dpb-u-$id
out=$(mktemp -d /tmp/dpb-units.XXXXXX)

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$out"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip -n "$ns" link add dpbbig type veth peer name dpbbigp
ip -n "$ns" link add dpbsmall type veth peer name dpbsmallp
ip -n "$ns" link set dpbbig mtu 9000
ip -n "$ns" link set dpbbigp mtu 9000
for i in dpbbig dpbbigp dpbsmall dpbsmallp lo; do ip -n "$ns" link set "$i" up; done
ip netns exec "$ns" "$bin" "$obj" "$out" dpbbig dpbsmall
