# shellcheck shell=bash
# Helpers for the fleet tests: a three-node NATS cluster with JetStream and
# appliances ("sensors") joined to it, all in network namespaces the test
# makes. Source from a test script:
#
#   source "$(dirname "$0")/lib.sh"
#   fl_init BINARY TAG             # tmp dir, cleanup trap, the hub namespace
#   fl_nats_up                     # nodes 1..3 in the hub (client ports 4222..4224)
#   fl_sensor_up 1 [start options] # sensor s1: its own capture/peer namespaces
#   fl_send 1 --count 100 --tag 1  # frames from s1's peer into its capture veth
#   fl_client ls --json            # capture-appliance fleet ... in the hub
#   fl_nats_kill 2; fl_nats_start 2
#
# Layout: the hub namespace holds the NATS servers and runs the client. Each
# sensor is the integration tests' pair of namespaces (scripts/netns: the
# appliance captures its veth in the capture namespace, traffic comes from
# the peer namespace) plus a management veth from its capture namespace to
# the hub: 10.77.N.1 (hub) - 10.77.N.2 (sensor), where the sensor's REST API
# listens and which reaches NATS. Nothing touches the root namespace's
# interfaces.

FL_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
FL_SRC=$(readlink -f "$FL_DIR/../..")
# shellcheck source=scripts/netns/lib.sh
source "$FL_SRC/scripts/netns/lib.sh"

fl_log() { echo "[$(date +%T.%3N)] $*"; }

fl_fail()
{
	local f
	echo "FAIL: $*" >&2
	for f in "$FL_TMP"/s*.log "$FL_TMP"/nats*.log; do
		[ -f "$f" ] || continue
		echo "---- $f ----" >&2
		tail -n 25 "$f" >&2
	done
	exit 1
}

# fl_init BINARY TAG
fl_init()
{
	FL_BIN=$(readlink -f "$1")
	FL_TAG=$2
	[ -x "$FL_BIN" ] || { echo "FAIL: no appliance binary at '$FL_BIN'" >&2; exit 1; }
	[ "$(id -u)" -eq 0 ] || { echo "FAIL: the fleet tests need root" >&2; exit 1; }
	command -v nats-server >/dev/null || { echo "FAIL: no nats-server (scripts/install-deps.sh)" >&2; exit 1; }
	nh_cleanup_trap
	FL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fl-$FL_TAG.XXXXXX")
	nh_cleanup_add "rm -rf '$FL_TMP'"
	FL_ID=$(($$ % 100000))
	FL_HUB=fl${FL_TAG}h$FL_ID
	ip netns del "$FL_HUB" 2>/dev/null || true
	ip netns add "$FL_HUB" || fl_fail "can't make namespace $FL_HUB"
	nh_cleanup_add "fl_hub_down"
	ip -n "$FL_HUB" link set lo up
	fl_log "hub $FL_HUB, tmp $FL_TMP"
}

fl_hub_down()
{
	ip netns pids "$FL_HUB" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
	ip netns del "$FL_HUB" 2>/dev/null || true
}

fl_hub() { ip netns exec "$FL_HUB" "$@"; }

declare -A FL_NATS_PID=()

# fl_nats_conf N: node N's configuration (client 4221+N, cluster 6221+N,
# monitoring 8221+N, store $FL_TMP/nats/N), routes to all three.
fl_nats_conf()
{
	local n=$1
	mkdir -p "$FL_TMP/nats/$n"
	cat >"$FL_TMP/nats$n.conf" <<CONF
server_name: n$n
listen: 0.0.0.0:$((4221 + n))
http: 127.0.0.1:$((8221 + n))
jetstream {
	store_dir: "$FL_TMP/nats/$n"
	max_memory_store: 64MB
	max_file_store: 8GB
}
cluster {
	name: ca-test
	listen: 127.0.0.1:$((6221 + n))
	no_advertise: true
	routes: [
		nats-route://127.0.0.1:6222
		nats-route://127.0.0.1:6223
		nats-route://127.0.0.1:6224
	]
}
CONF
}

# fl_nats_start N: starts node N (again), waits for its client port.
fl_nats_start()
{
	local n=$1 i
	[ -f "$FL_TMP/nats$n.conf" ] || fl_nats_conf "$n"
	ip netns exec "$FL_HUB" nats-server -c "$FL_TMP/nats$n.conf" >>"$FL_TMP/nats$n.log" 2>&1 &
	FL_NATS_PID[$n]=$!
	for ((i = 0; i < 100; i++)); do
		fl_hub curl -sf "http://127.0.0.1:$((8221 + n))/varz" >/dev/null 2>&1 && return 0
		kill -0 "${FL_NATS_PID[$n]}" 2>/dev/null || fl_fail "nats node $n exited"
		sleep 0.1
	done
	# healthz says "ok" once JetStream is up; a node alone waits for its peers
	return 0
}

# fl_nats_up: the three nodes, then waits until JetStream has a meta leader.
fl_nats_up()
{
	local n i
	for n in 1 2 3; do
		fl_nats_conf "$n"
		fl_nats_start "$n"
	done
	fl_nats_wait_meta
}

fl_nats_wait_meta()
{
	local i n
	for ((i = 0; i < 300; i++)); do
		for n in 1 2 3; do
			fl_hub curl -sf "http://127.0.0.1:$((8221 + n))/jsz" 2>/dev/null |
				grep -q '"leader"' && return 0
		done
		sleep 0.1
	done
	fl_fail "NATS cluster: no JetStream meta leader after 30 s"
}

# fl_nats_kill N: SIGKILL node N.
fl_nats_kill()
{
	local n=$1
	kill -KILL "${FL_NATS_PID[$n]}" 2>/dev/null
	wait "${FL_NATS_PID[$n]}" 2>/dev/null || true
	fl_log "NATS node $n killed"
}

# The NATS URLs as sensor N sees them (all three nodes, through its link).
fl_urls_for()
{
	local h=10.77.$1.1
	echo "nats://$h:4222,nats://$h:4223,nats://$h:4224"
}
FL_HUB_URLS=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224

declare -A FL_SPID=() FL_SNS=() FL_SPEER=() FL_SIF=() FL_SPEERIF=() FL_SDUMP=()

# fl_sensor_up N [start options]: sensor sN (namespaces "fl<TAG><N><id>c/p"),
# REST on 10.77.N.2:9000, dump $FL_TMP/sN/cap (2-s rotation, or the
# options in FL_ROTATE), filter udp.
fl_sensor_up()
{
	local n=$1 id i
	shift
	id=fl$FL_TAG$n$FL_ID
	id=${id:0:12}
	if [ -z "${FL_SNS[$n]:-}" ]; then
		nh_up "$id" || fl_fail "could not make the hosts of sensor $n"
		FL_SNS[$n]=$NH_CAP_NS
		FL_SPEER[$n]=$NH_PEER_NS
		FL_SIF[$n]=$NH_CAP_IF
		FL_SPEERIF[$n]=$NH_PEER_IF
		ip -n "$NH_CAP_NS" link add "${id}m" type veth peer name "${id}h" || fl_fail "mgmt veth"
		ip -n "$NH_CAP_NS" link set "${id}h" netns "$FL_HUB"
		ip -n "$NH_CAP_NS" addr add "10.77.$n.2/24" dev "${id}m"
		ip -n "$NH_CAP_NS" link set "${id}m" up
		ip -n "$FL_HUB" addr add "10.77.$n.1/24" dev "${id}h"
		ip -n "$FL_HUB" link set "${id}h" up
		mkdir -p "$FL_TMP/s$n"
		FL_SDUMP[$n]=$FL_TMP/s$n/cap
	fi
	local log=$FL_TMP/s$n.log skip
	: >>"$log"
	skip=$(wc -l <"$log") # an earlier run's lines
	fl_log "start sensor s$n: --fleet $(fl_urls_for "$n") $*"
	ip netns exec "${FL_SNS[$n]}" "$FL_BIN" start --iface "${FL_SIF[$n]}" \
		--dump "${FL_SDUMP[$n]}" --filter udp ${FL_ROTATE:---rotate-time 2} --stats-interval 0 \
		--listen "10.77.$n.2:9000" --fleet "$(fl_urls_for "$n")" --sensor "s$n" \
		--fleet-replicas 3 "$@" >>"$log" 2>&1 &
	FL_SPID[$n]=$!
	nh_cleanup_add "kill -KILL ${FL_SPID[$n]}"
	for ((i = 0; i < 200; i++)); do
		tail -n +$((skip + 1)) "$log" | grep -q "fleet: sensor s$n" && return 0
		kill -0 "${FL_SPID[$n]}" 2>/dev/null || fl_fail "sensor s$n exited before it was ready"
		sleep 0.05
	done
	fl_fail "sensor s$n not ready after 10 s"
}

# fl_sensor_stop N: SIGINT, waits, exit status must be 0.
fl_sensor_stop()
{
	local n=$1 rc=0
	kill -INT "${FL_SPID[$n]}" || fl_fail "sensor s$n already gone"
	wait "${FL_SPID[$n]}" || rc=$?
	[ "$rc" -eq 0 ] || fl_fail "sensor s$n exited with $rc"
	fl_log "sensor s$n stopped"
}

# fl_send N [send.py options]: frames from sensor N's peer into its capture veth.
fl_send()
{
	local n=$1
	shift
	ip netns exec "${FL_SPEER[$n]}" python3 "$FL_SRC/tests/integration/send.py" --mode raw \
		--iface "${FL_SPEERIF[$n]}" --src-mac 02:1c:00:00:00:02 --dst-mac 02:1c:00:00:00:01 \
		--src-ip 10.199.0.2 --dst-ip 10.199.0.1 "$@" >/dev/null || fl_fail "send.py failed"
}

# fl_client ARGS: capture-appliance fleet --fleet (hub URLs) ARGS, in the hub.
fl_client()
{
	ip netns exec "$FL_HUB" "$FL_BIN" fleet --fleet "$FL_HUB_URLS" "$@"
}

# fl_local_sealed N: sensor N's sealed files, one a line, as its REST API
# lists them (the sensor must be running).
fl_local_sealed()
{
	local n=$1
	ip netns exec "${FL_SNS[$n]}" curl -sf \
		-H "Authorization: Bearer $(cat /run/capture-appliance/api.token)" \
		"http://10.77.$n.2:9000/api/v1/captures/${FL_SIF[$n]}/files" 2>/dev/null |
		python3 -c 'import sys,json
try:
    files = json.load(sys.stdin)
except ValueError:
    files = []
for f in files:
    if f["sealed"]: print(f["name"])' | sort
}

# fl_catalog_files N: the file names the catalog holds for sN (sealed
# records), one a line per record (duplicates show).
fl_catalog_files()
{
	fl_client catalog --sensor "s$1" |
		python3 -c 'import sys,json
for l in sys.stdin:
    r=json.loads(l)
    if r["kind"]=="sealed": print(r["file"])' | sort
}

# fl_wait_catalog N [SECONDS]: waits until the catalog holds exactly one
# sealed record for each sealed local file of sN (and nothing else);
# fails naming what is missing or extra.
fl_wait_catalog()
{
	local n=$1 secs=${2:-30} i want got
	for ((i = 0; i < secs * 2; i++)); do
		# either may fail for a while (a NATS leader being elected): a
		# failed poll is not the answer (and must not end the script
		# under set -e)
		want=$(fl_local_sealed "$n") || want=""
		got=$(fl_catalog_files "$n" 2>/dev/null) || got=""
		# the catalog may be ahead by a file sealed since the listing
		if [ -n "$want" ] && [ "$(comm -23 <(echo "$want") <(echo "$got"))" = "" ]; then
			[ "$(echo "$got" | uniq -d)" = "" ] ||
				fl_fail "s$n: duplicate catalog records: $(echo "$got" | uniq -d | tr '\n' ' ')"
			comm -13 <(ls "$FL_TMP/s$n" | grep -E '^cap-.*\.pcap$' | sort) <(echo "$got") |
				grep -q . && fl_fail "s$n: catalog records of files that do not exist"
			return 0
		fi
		sleep 0.5
	done
	fl_fail "s$n: catalog lacks $(comm -23 <(echo "$want") <(echo "$got") | tr '\n' ' ')"
}
