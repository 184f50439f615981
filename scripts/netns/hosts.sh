#!/bin/bash
# Test hosts CLI: a capture namespace and a peer namespace joined by a veth pair.
#
#   hosts.sh up ID [--queues N] [--mtu N]   create (or re-create) and print the names
#   hosts.sh down ID                        remove (idempotent)
#   hosts.sh env ID                         print the names as shell variables
#   hosts.sh list [PREFIX]                  namespaces starting with PREFIX (default it)
#
# Never touches eth0: the veth pair is created inside the capture namespace.
set -euo pipefail
# shellcheck source=scripts/netns/lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

usage()
{
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

print_env()
{
	local v
	for v in NH_ID NH_CAP_NS NH_PEER_NS NH_CAP_IF NH_PEER_IF NH_CAP_IP NH_PEER_IP \
		NH_PREFIXLEN NH_CAP_MAC NH_PEER_MAC; do
		printf '%s=%s\n' "$v" "${!v}"
	done
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
up)
	[ $# -ge 1 ] || usage
	if [ "$(id -u)" -ne 0 ]; then
		echo "hosts.sh: run as root (creates network namespaces)" >&2
		exit 1
	fi
	# If creation fails half-way, remove what was made; on success keep it.
	trap 'rc=$?; [ $rc -eq 0 ] || nh_cleanup_run; exit $rc' EXIT
	nh_up "$@"
	print_env
	;;
down)
	[ $# -eq 1 ] || usage
	nh_down "$1"
	;;
env)
	[ $# -eq 1 ] || usage
	nh_check_id "$1"
	nh_env "$1"
	print_env
	;;
list)
	nh_list "${1:-it}"
	;;
*)
	usage
	;;
esac
