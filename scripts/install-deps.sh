#!/bin/bash
# Installs every Debian 12 package the appliance, its tests and its benchmarks need.
# Idempotent; run as root. Skips apt entirely when everything is already there.
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config clang llvm libclang-rt-14-dev
	libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev
	libpcap-dev liburing-dev libcivetweb-dev libcjson-dev libcmocka-dev libssl-dev libcap-ng-dev
	libcurl4-openssl-dev
	libnats-dev nats-server
	swift swift-proxy swift-object swift-container swift-account python3-swiftclient memcached
	iproute2 tcpdump tshark wireshark-common netsniff-ng
	curl python3 gnuplot-nox iputils-ping ethtool jq openssl prometheus
	libsystemd-dev systemd systemd-container dpkg-dev lintian man-db
	chromium
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (apt-get needs it)" >&2
	exit 1
fi

# The archive tests start their own Swift and memcached on loopback ports:
# the packages' own services are not wanted (unconfigured, they would also
# hold up a booting system: packaging.unit_runs_under_systemd boots this
# root in a container). Disabled every time, also when nothing is missing.
disable_services()
{
	local u units
	units=$(systemctl list-unit-files --no-legend 'swift-*' 'memcached*' 2>/dev/null |
		awk '$2 == "enabled" { print $1 }')
	for u in $units; do
		systemctl disable --now "$u" >/dev/null 2>&1 || systemctl disable "$u" >/dev/null 2>&1 || true
	done
}

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	disable_services
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
disable_services
