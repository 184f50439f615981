#!/bin/bash
# Live capture demo on a veth pair between two network namespaces:
# installs the dependencies, builds, creates the test hosts, starts the
# appliance on the capture side, sends traffic both ways, stops it with
# SIGINT and shows the capture (tcpdump -r) and the counters.
#
#   sudo scripts/demo.sh [--no-deps] [--no-build] [--build-dir DIR]
#                        [--filter EXPR] [--snaplen N] [--transparent] [--keep]
#
# Never touches eth0 or any interface of the root namespace: the veth pair
# lives only in the namespaces "cademoc" (capture) and "cademop" (peer),
# which are removed at exit (even on failure). --keep keeps the pcap file.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SRC=$PWD
# shellcheck source=scripts/netns/lib.sh
source "$SRC/scripts/netns/lib.sh"

deps=1 build=1 bdir=$SRC/build filter="icmp or udp" snaplen=262144 keep=0
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-deps) deps=0; shift ;;
	--no-build) build=0; shift ;;
	--build-dir) bdir=$(readlink -f "$2"); shift 2 ;;
	--filter) filter=$2; shift 2 ;;
	--snaplen) snaplen=$2; shift 2 ;;
	--transparent) extra+=(--transparent); shift ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (namespaces, BPF)" >&2; exit 1; }

# bold headings on a terminal only (no escape codes in a saved log)
if [ -t 1 ]; then
	step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	step() { printf '\n== %s\n' "$*"; }
fi

if [ $deps = 1 ]; then
	step "Installing dependencies"
	bash scripts/install-deps.sh
fi
if [ $build = 1 ]; then
	step "Building in $bdir"
	cmake -S "$SRC" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$bdir" -j"$(nproc)" --target capture-appliance
fi
bin=$bdir/cli/capture-appliance
[ -x "$bin" ] || { echo "demo: no binary at $bin (build first)" >&2; exit 1; }

nh_cleanup_trap
out=$(mktemp -d "${TMPDIR:-/tmp}/capture-demo.XXXXXX")
[ $keep = 1 ] || nh_cleanup_add "rm -rf '$out'"

step "Creating the test hosts (namespaces cademoc <-veth-> cademop)"
nh_up cademo
ip -n "$NH_CAP_NS" -br addr show dev "$NH_CAP_IF"
ip -n "$NH_PEER_NS" -br addr show dev "$NH_PEER_IF"

step "Starting: capture-appliance start --iface $NH_CAP_IF --filter '$filter' ${extra[*]}"
ip netns exec "$NH_CAP_NS" "$bin" start --iface "$NH_CAP_IF" --name demo --mode bidirectional \
	--filter "$filter" --snaplen "$snaplen" --dump "$out/demo" --stats-interval 0 \
	"${extra[@]}" >"$out/appliance.log" 2>&1 &
pid=$! # if the demo fails, nh_down kills it with everything else in the namespace
for ((i = 0; i < 300; i++)); do
	grep -q "REST API on" "$out/appliance.log" && break
	if ! kill -0 $pid 2>/dev/null; then
		cat "$out/appliance.log"
		echo "demo: the appliance did not start" >&2
		exit 1
	fi
	sleep 0.1
done
cat "$out/appliance.log"
echo "attached: $(ip -n "$NH_CAP_NS" link show dev "$NH_CAP_IF" | grep -o 'prog/xdp.*' || echo 'no XDP')"

step "Sending traffic"
# The capture veth has an address: the default path (auto) captures it
# transparently, so the pings are answered while they are captured.
echo "ping: peer -> capture host, 3 echo requests"
ip netns exec "$NH_PEER_NS" ping -c 3 -i 0.2 -W 1 "$NH_CAP_IP" || true
send=$SRC/tests/integration/send.py
echo "UDP: 10 raw frames peer -> capture host (ingress), then 10 datagrams back (egress)"
ip netns exec "$NH_PEER_NS" python3 "$send" --iface "$NH_PEER_IF" --count 10 --rate 100 \
	--src-mac "$NH_PEER_MAC" --dst-mac "$NH_CAP_MAC" --src-ip "$NH_PEER_IP" --dst-ip "$NH_CAP_IP"
ip netns exec "$NH_CAP_NS" python3 "$send" --mode udp --count 10 --rate 100 \
	--src-ip "$NH_CAP_IP" --dst-ip "$NH_PEER_IP" --tag 2
echo "REST: curl -H 'Authorization: Bearer <root-only token>' http://127.0.0.1:9000/api/v1/captures/demo/stats (inside $NH_CAP_NS)"
ip netns exec "$NH_CAP_NS" curl -s -m 5 \
	-H "Authorization: Bearer $(cat /run/capture-appliance/api.token)" \
	http://127.0.0.1:9000/api/v1/captures/demo/stats || true
echo

step "Stopping (SIGINT)"
kill -INT $pid
wait $pid || { echo "demo: exit status $?" >&2; exit 1; }
sed -n '/stopping/,$p' "$out/appliance.log"
echo "attached after stop: $(ip -n "$NH_CAP_NS" link show dev "$NH_CAP_IF" | grep -o 'prog/xdp.*' || echo nothing)"

step "The capture: tcpdump -r $out/demo.pcap"
tcpdump -nn -e -r "$out/demo.pcap" 2>&1 | head -40
capinfos -c -s "$out/demo.pcap" 2>/dev/null | tail -n +2 || true
[ $keep = 0 ] || echo "kept: $out/demo.pcap"
