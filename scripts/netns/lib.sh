# shellcheck shell=bash
# Test hosts for the capture appliance: two network namespaces joined by one
# veth pair. Source this file; it never touches eth0 or the root namespace's
# interfaces (everything it creates lives inside the namespaces it names).
#
#   source scripts/netns/lib.sh
#   nh_cleanup_trap              # one EXIT/INT/TERM trap runs every cleanup
#   nh_up itq1 --queues 4        # capture ns "itq1c" <-veth-> peer ns "itq1p"
#   ip netns exec "$NH_CAP_NS" ...   # variables: see nh_env
#   nh_down itq1                 # idempotent; also registered by nh_up
#
# Names: ID must start with a caller-unique prefix (this project's tests use
# "it") and be at most 12 characters, so "<ID>c0" fits IFNAMSIZ.
#
# The link is made quiet on purpose, so captures contain only the test's own
# traffic: IPv6 off (no router solicitations / MLD), static neighbours (no
# ARP), fixed MAC addresses.

NH_CLEANUPS=()

# Runs the registered cleanups, newest first; safe to call more than once.
nh_cleanup_run()
{
	local i
	for ((i = ${#NH_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${NH_CLEANUPS[i]}" >/dev/null 2>&1 || true
	done
	NH_CLEANUPS=()
}

# Registers a shell command to run at exit (or on INT/TERM), newest first.
nh_cleanup_add()
{
	NH_CLEANUPS+=("$1")
}

# One trap for everything; keeps the script's exit status.
nh_cleanup_trap()
{
	trap 'rc=$?; nh_cleanup_run; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Sets the NH_* variables describing host pair ID (no side effects).
nh_env()
{
	local id=$1
	NH_ID=$id
	NH_CAP_NS=${id}c
	NH_PEER_NS=${id}p
	NH_CAP_IF=${id}c0
	NH_PEER_IF=${id}p0
	NH_CAP_IP=10.199.0.1
	NH_PEER_IP=10.199.0.2
	NH_PREFIXLEN=24
	NH_CAP_MAC=02:1c:00:00:00:01
	NH_PEER_MAC=02:1c:00:00:00:02
}

nh_check_id()
{
	local id=$1
	if [[ ! $id =~ ^[a-z][a-z0-9]{1,11}$ ]]; then
		echo "netns: bad id '$id' (lower-case letter first, 2-12 of [a-z0-9])" >&2
		return 1
	fi
}

# nh_down ID: removes both namespaces (and with them the veth pair).
# Processes still running inside are the caller's to stop first: a namespace
# with live processes outlives "ip netns del".
nh_down()
{
	local id=$1 ns
	nh_check_id "$id" || return 1
	nh_env "$id"
	for ns in "$NH_CAP_NS" "$NH_PEER_NS"; do
		if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	return 0
}

# nh_up ID [--queues N] [--mtu N]: (re)creates the capture and peer namespaces
# and the veth pair between them, with N RX and TX queues on both ends
# (default 1). Registers nh_down ID as a cleanup. Exports the NH_* variables.
nh_up()
{
	local id=$1 queues=1 mtu=1500 ns
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--queues) queues=$2; shift 2 ;;
		--mtu) mtu=$2; shift 2 ;;
		*) echo "netns: unknown option $1" >&2; return 1 ;;
		esac
	done
	nh_check_id "$id" || return 1
	nh_down "$id"
	nh_env "$id"
	nh_cleanup_add "nh_down $id"

	ip netns add "$NH_CAP_NS" || return 1
	ip netns add "$NH_PEER_NS" || return 1
	# Create the pair inside the capture namespace so no interface of ours
	# ever exists in the root namespace, not even for a moment.
	ip -n "$NH_CAP_NS" link add "$NH_CAP_IF" numrxqueues "$queues" numtxqueues "$queues" \
		address "$NH_CAP_MAC" type veth peer name "$NH_PEER_IF" \
		numrxqueues "$queues" numtxqueues "$queues" address "$NH_PEER_MAC" || return 1
	ip -n "$NH_CAP_NS" link set "$NH_PEER_IF" netns "$NH_PEER_NS" || return 1

	for ns in "$NH_CAP_NS" "$NH_PEER_NS"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
		ip -n "$ns" link set lo up || return 1
	done
	ip -n "$NH_CAP_NS" link set "$NH_CAP_IF" mtu "$mtu" up || return 1
	ip -n "$NH_PEER_NS" link set "$NH_PEER_IF" mtu "$mtu" up || return 1
	ip -n "$NH_CAP_NS" addr add "$NH_CAP_IP/$NH_PREFIXLEN" dev "$NH_CAP_IF" || return 1
	ip -n "$NH_PEER_NS" addr add "$NH_PEER_IP/$NH_PREFIXLEN" dev "$NH_PEER_IF" || return 1
	ip -n "$NH_CAP_NS" neigh replace "$NH_PEER_IP" lladdr "$NH_PEER_MAC" \
		dev "$NH_CAP_IF" nud permanent || return 1
	ip -n "$NH_PEER_NS" neigh replace "$NH_CAP_IP" lladdr "$NH_CAP_MAC" \
		dev "$NH_PEER_IF" nud permanent || return 1
	nh_wait_up || return 1
	export NH_ID NH_CAP_NS NH_PEER_NS NH_CAP_IF NH_PEER_IF NH_CAP_IP NH_PEER_IP \
		NH_PREFIXLEN NH_CAP_MAC NH_PEER_MAC
}

# Waits (up to 5 s) until both veth ends report carrier.
nh_wait_up()
{
	local i
	for ((i = 0; i < 50; i++)); do
		if ip -n "$NH_CAP_NS" link show "$NH_CAP_IF" | grep -q LOWER_UP &&
			ip -n "$NH_PEER_NS" link show "$NH_PEER_IF" | grep -q LOWER_UP; then
			return 0
		fi
		sleep 0.1
	done
	echo "netns: $NH_CAP_IF/$NH_PEER_IF did not come up" >&2
	return 1
}

# nh_list [PREFIX]: namespaces whose name starts with PREFIX (default "it").
nh_list()
{
	ip netns list | awk '{print $1}' | grep "^${1:-it}" || true
}
