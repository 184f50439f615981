# shellcheck shell=bash
# An OpenStack Swift all-in-one with the S3 API (s3api + tempauth) on
# loopback, for the archive tests and bench/archive.sh. Source it:
#
#   source tests/archive/swift.sh
#   swift_start [NETNS]    # servers in NETNS's loopback (default: the host's);
#                          # SWIFT_PROXY_BIND=0.0.0.0: the S3 endpoint on every
#                          # address of NETNS (the fleet tests' hub)
#   ... S3 at $SWIFT_S3 (http://127.0.0.1:PORT), access key $SWIFT_KEY,
#       secret $SWIFT_SECRET, region us-east-1, bucket creation: swift_mkbucket B
#   swift_proxy_stop; swift_proxy_start   # the S3 endpoint down / up again
#   swift_stop             # ends every process swift_start started
#
# Everything lives in a temporary folder: swift.conf (hash prefix and
# suffix: the servers read it from swift_dir, never /etc/swift), a
# memcached (tempauth keeps tokens there), rings of
# one replica on one device each, the device folder (owned by the swift
# user, which the servers switch to), logs. swift_start installs an EXIT
# trap calling swift_stop unless SWIFT_NO_TRAP=1 (a caller with its own
# cleanup list calls swift_stop itself). Works as root with no standard
# input, and under set -e.

SWIFT_KEY=test:tester
SWIFT_SECRET=testing
SWIFT_REGION=us-east-1
SWIFT_PIDS=()

_swift_ns() { if [ -n "${SWIFT_NETNS:-}" ]; then ip netns exec "$SWIFT_NETNS" "$@"; else "$@"; fi; }

_swift_free_base()
{
	local b i
	for ((i = 0; i < 50; i++)); do
		b=$((20000 + (RANDOM % 2000) * 10))
		_swift_ns ss -Htln "( sport >= :$b and sport <= :$((b + 4)) )" | grep -q . || { echo "$b"; return 0; }
	done
	return 1
}

_swift_conf()
{
	local d=$SWIFT_DIR
	cat >"$d/swift.conf" <<-C
	[swift-hash]
	swift_hash_path_prefix = ca$RANDOM$RANDOM
	swift_hash_path_suffix = ca$RANDOM$RANDOM
	[storage-policy:0]
	name = Policy-0
	default = yes
	C
	local srv port
	for srv in object container account; do
		case $srv in object) port=$((SWIFT_BASE + 1)) ;; container) port=$((SWIFT_BASE + 2)) ;;
			account) port=$((SWIFT_BASE + 3)) ;; esac
		cat >"$d/$srv-server.conf" <<-C
		[DEFAULT]
		swift_dir = $d
		devices = $d/srv
		mount_check = false
		bind_ip = 127.0.0.1
		bind_port = $port
		workers = 0
		user = swift
		log_facility = LOG_LOCAL2
		log_address = $d/nolog
		[pipeline:main]
		pipeline = $srv-server
		[app:$srv-server]
		use = egg:swift#$srv
		[$srv-replicator]
		[$srv-updater]
		[$srv-auditor]
		C
		(cd "$d" && swift-ring-builder "$srv.builder" create 0 1 0 >/dev/null &&
			swift-ring-builder "$srv.builder" add r1z1-127.0.0.1:$port/d1 1 >/dev/null &&
			swift-ring-builder "$srv.builder" rebalance >/dev/null) || return 1
	done
	cat >"$d/proxy-server.conf" <<-C
	[DEFAULT]
	swift_dir = $d
	bind_ip = ${SWIFT_PROXY_BIND:-127.0.0.1}
	bind_port = $SWIFT_BASE
	workers = 0
	user = swift
	log_facility = LOG_LOCAL2
	log_address = $d/nolog
	[pipeline:main]
	pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
	[app:proxy-server]
	use = egg:swift#proxy
	account_autocreate = true
	allow_account_management = true
	[filter:tempauth]
	use = egg:swift#tempauth
	user_test_tester = testing .admin
	[filter:s3api]
	use = egg:swift#s3api
	location = $SWIFT_REGION
	[filter:cache]
	use = egg:swift#memcache
	memcache_servers = 127.0.0.1:$((SWIFT_BASE + 4))
	[filter:catch_errors]
	use = egg:swift#catch_errors
	[filter:gatekeeper]
	use = egg:swift#gatekeeper
	[filter:healthcheck]
	use = egg:swift#healthcheck
	[filter:proxy-logging]
	use = egg:swift#proxy_logging
	[filter:listing_formats]
	use = egg:swift#listing_formats
	[filter:copy]
	use = egg:swift#copy
	[filter:slo]
	use = egg:swift#slo
	[filter:dlo]
	use = egg:swift#dlo
	C
}

# swift_s3_ready: whether the S3 API answers (any HTTP status).
swift_s3_ready()
{
	local code
	code=$(_swift_ns curl -s -o /dev/null -m 2 -w '%{http_code}' "$SWIFT_S3/" 2>/dev/null) || return 1
	[ "$code" != 000 ]
}

_swift_run()
{
	local what=$1 pre=()
	# no function or subshell around it: $! must be the server itself
	[ -z "${SWIFT_NETNS:-}" ] || pre=(ip netns exec "$SWIFT_NETNS")
	"${pre[@]}" "swift-$what-server" "$SWIFT_DIR/$what-server.conf" </dev/null \
		>>"$SWIFT_DIR/$what.log" 2>&1 &
	SWIFT_PIDS+=("$!")
	eval "SWIFT_PID_$what=$!"
}

swift_proxy_start()
{
	local i
	_swift_run proxy
	for ((i = 0; i < 300; i++)); do
		swift_s3_ready && return 0
		kill -0 "$SWIFT_PID_proxy" 2>/dev/null || break
		sleep 0.1
	done
	echo "swift: the S3 API did not answer on $SWIFT_S3; proxy log:" >&2
	tail -n 20 "$SWIFT_DIR/proxy.log" >&2
	return 1
}

swift_proxy_stop()
{
	[ -n "${SWIFT_PID_proxy:-}" ] || return 0
	kill "$SWIFT_PID_proxy" 2>/dev/null || true
	wait "$SWIFT_PID_proxy" 2>/dev/null || true
	SWIFT_PID_proxy=
}

swift_start()
{
	SWIFT_NETNS=${1:-}
	[ "$(id -u)" -eq 0 ] || { echo "swift: needs root (servers switch to the swift user)" >&2; return 1; }
	id swift >/dev/null 2>&1 || { echo "swift: no swift user: bash scripts/install-deps.sh" >&2; return 1; }
	SWIFT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/swift.XXXXXX") || return 1
	chmod 755 "$SWIFT_DIR"
	[ "${SWIFT_NO_TRAP:-0}" = 1 ] || trap swift_stop EXIT
	_swift_ns ip link set lo up 2>/dev/null
	SWIFT_BASE=$(_swift_free_base) || { echo "swift: no free ports" >&2; return 1; }
	SWIFT_S3=http://127.0.0.1:$SWIFT_BASE
	_swift_conf || { echo "swift: configuration or rings failed" >&2; return 1; }
	mkdir -p "$SWIFT_DIR/srv/d1"
	chown -R swift:swift "$SWIFT_DIR/srv"
	# tempauth keeps its tokens (and s3api's) in memcache: one of our own
	local pre=()
	[ -z "${SWIFT_NETNS:-}" ] || pre=(ip netns exec "$SWIFT_NETNS")
	"${pre[@]}" memcached -u swift -l 127.0.0.1 -p $((SWIFT_BASE + 4)) -U 0 -m 16 \
		</dev/null >>"$SWIFT_DIR/memcached.log" 2>&1 &
	SWIFT_PIDS+=("$!")
	_swift_run object
	_swift_run container
	_swift_run account
	swift_proxy_start
}

# swift_mkbucket BUCKET: creates it over the Swift API (a container is a bucket).
swift_mkbucket()
{
	local i
	# the proxy may answer before the account and container servers do
	for ((i = 0; i < 40; i++)); do
		_swift_mkbucket "$1" && return 0
		sleep 0.5
	done
	echo "swift: could not create bucket $1; logs:" >&2
	tail -n 5 "$SWIFT_DIR"/*.log >&2
	return 1
}

_swift_mkbucket()
{
	local tok url h
	h=$(_swift_ns curl -s -m 10 -D - -o /dev/null -H "X-Auth-User: $SWIFT_KEY" \
		-H "X-Auth-Key: $SWIFT_SECRET" "$SWIFT_S3/auth/v1.0") || return 1
	tok=$(printf '%s' "$h" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')
	url=$(printf '%s' "$h" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]torage-[Uu]rl: //p')
	[ -n "$tok" ] && [ -n "$url" ] || return 1
	SWIFT_TOKEN=$tok
	SWIFT_URL=$url
	_swift_ns curl -sf -m 10 -X PUT -H "X-Auth-Token: $tok" "$url/$1" -o /dev/null
}

# swift_list BUCKET [PREFIX]: object names, one a line (Swift API; after swift_mkbucket).
swift_list()
{
	_swift_ns curl -sf -m 10 -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_URL/$1?prefix=${2:-}"
}

# swift_get BUCKET KEY FILE: downloads an object.
swift_get()
{
	_swift_ns curl -sf -m 30 -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_URL/$1/$2" -o "$3"
}

# swift_head BUCKET KEY: its headers.
swift_head()
{
	_swift_ns curl -sf -m 10 -I -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_URL/$1/$2" | tr -d '\r'
}

swift_stop()
{
	local p
	for p in "${SWIFT_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${SWIFT_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	SWIFT_PIDS=()
	SWIFT_PID_proxy=
	[ -n "${SWIFT_DIR:-}" ] && rm -rf "$SWIFT_DIR"
	SWIFT_DIR=
}
