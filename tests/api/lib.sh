# shellcheck shell=bash
# Helpers for the REST tests: the real appliance in a private network
# namespace (veth to a peer namespace), driven with curl and the CLI on that
# namespace's loopback. Source from a test:
#
#   source "$(dirname "$0")/lib.sh"
#   api_init BINARY TAG            # hosts "api<TAG><pid>", $API_TMP, cleanup trap
#   api_start [start options]      # appliance on $NH_CAP_IF, REST on 127.0.0.1:9000;
#                                  # API_AUTH: the default token's header unless
#                                  # the options choose --token-file or --no-auth
#   req GET /api/v1/captures       # -> $CODE and $BODY
#   expect 200 GET /healthz        # req + status check
#   jeq .snaplen 80                # a value out of $BODY (jq) must be 80
#   api_send 5555 100              # 100 UDP datagrams peer -> capture side
#   api_cli show NAME              # the CLI, inside the namespace

API_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
API_SRC=$(readlink -f "$API_DIR/../..")
# shellcheck source=scripts/netns/lib.sh
source "$API_SRC/scripts/netns/lib.sh"

API_URL=http://127.0.0.1:9000
API_CURL=()
API_AUTH=()

api_log() { echo "[$(date +%T.%3N)] $*"; }

api_fail()
{
	echo "FAIL: $*" >&2
	if [ -n "${API_LOG:-}" ] && [ -f "$API_LOG" ]; then
		echo "---- appliance log ----" >&2
		tail -n 30 "$API_LOG" >&2
	fi
	exit 1
}

# api_init BINARY TAG: TAG is 1-2 lower-case letters/digits.
api_init()
{
	API_BIN=$(readlink -f "$1")
	local tag=$2
	[ -x "$API_BIN" ] || { echo "FAIL: no binary at '$1'" >&2; exit 1; }
	[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (namespaces, BPF)" >&2; exit 1; }
	nh_cleanup_trap
	API_TMP=$(mktemp -d "${TMPDIR:-/tmp}/api-$tag.XXXXXX")
	nh_cleanup_add "rm -rf '$API_TMP'"
	API_ID=api$tag$(($$ % 100000))
	nh_up "$API_ID" || api_fail "could not create the test hosts $API_ID"
	API_PID=
}

in_cap() { ip netns exec "$NH_CAP_NS" "$@"; }
in_peer() { ip netns exec "$NH_PEER_NS" "$@"; }

# api_start [options]: the appliance with its first capture on the veth.
api_start()
{
	local i
	# a new file each time: the old one may still say "REST API on"
	API_NSTART=$((${API_NSTART:-0} + 1))
	API_LOG=$API_TMP/appliance.$API_NSTART.log
	# not through in_cap: $! must be the appliance, not a subshell
	ip netns exec "$NH_CAP_NS" "$API_BIN" start --iface "$NH_CAP_IF" --name first \
		--dump "$API_TMP/first" --stats-interval 0 "$@" >"$API_LOG" 2>&1 &
	API_PID=$!
	nh_cleanup_add "kill -KILL $API_PID"
	for ((i = 0; i < 200; i++)); do
		if grep -q "REST API on" "$API_LOG"; then
			# the server's own token, as root's CLI would read it
			API_AUTH=()
			[[ " $* " == *" --token-file "* || " $* " == *" --no-auth "* ]] ||
				API_AUTH=(-H "Authorization: Bearer $(cat /run/capture-appliance/api.token)")
			return 0
		fi
		kill -0 "$API_PID" 2>/dev/null || api_fail "appliance exited before it was ready"
		sleep 0.05
	done
	api_fail "appliance not ready after 10 s"
}

# api_stop: SIGTERM, must exit 0.
api_stop()
{
	kill -TERM "$API_PID"
	wait "$API_PID" || api_fail "appliance exited with status $?"
	API_PID=
}

# The service must still answer.
api_alive()
{
	kill -0 "$API_PID" 2>/dev/null || api_fail "appliance died"
	req GET /healthz
	[ "$CODE" = 200 ] || api_fail "healthz: $CODE $BODY"
}

# req METHOD PATH [BODY]: sets CODE and BODY. Extra curl options: API_CURL.
req()
{
	local method=$1 path=$2 out
	local args=(-s -S -m 60 -X "$method" -o "$API_TMP/body" -w '%{http_code}' "${API_AUTH[@]}"
		"${API_CURL[@]}")
	if [ $# -ge 3 ]; then
		printf '%s' "$3" >"$API_TMP/req"
		args+=(-H 'Content-Type: application/json' --data-binary "@$API_TMP/req")
	fi
	out=$(in_cap curl "${args[@]}" "$API_URL$path") || true
	CODE=$out
	BODY=$(cat "$API_TMP/body" 2>/dev/null || true)
	rm -f "$API_TMP/body"
}

# wait_pulls N: until at least N network-mode clients are subscribed
# (GET /metrics), 10 s. A client that subscribes late starts where the
# others have read to, so traffic must wait until all are in.
wait_pulls()
{
	local i n=""
	for ((i = 0; i < 100; i++)); do
		req GET /metrics
		n=$(awk '$1 == "capture_appliance_pull_clients" { print $2 }' <<<"$BODY" || true)
		[ -n "$n" ] && ((n >= $1)) && return 0
		sleep 0.1
	done
	api_fail "${n:-no} pull clients after 10 s, want $1 ($CODE)"
}

# expect CODE METHOD PATH [BODY]
expect()
{
	local want=$1
	shift
	req "$@"
	[ "$CODE" = "$want" ] || api_fail "$1 $2 ${3:-}: want $want, got $CODE: $BODY"
}

# jget FILTER: a jq filter over the JSON in $BODY (strings bare).
jget()
{
	jq -r "$1" <<<"$BODY"
}

# jeq FILTER WANT: fail unless jget FILTER == WANT.
jeq()
{
	local got
	got=$(jget "$1") || api_fail "bad JSON for $1: $BODY"
	[ "$got" = "$2" ] || api_fail "$1: want '$2', got '$got' in $BODY"
}

api_cli() { in_cap "$API_BIN" "$@"; }

# api_send PORT COUNT [SIZE] [PPS]: UDP datagrams from the peer to the
# capture side; payload: 4-byte sequence number, then padding.
api_send()
{
	in_peer python3 - "$NH_CAP_IP" "$@" <<'EOF'
import socket, struct, sys, time
ip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 100
pps = float(sys.argv[5]) if len(sys.argv) > 5 else 5000.0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
for i in range(count):
    s.sendto(struct.pack("!I", i) + b"\xab" * (size - 4), (ip, port))
    ahead = t0 + (i + 1) / pps - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)
EOF
}

# pcap_count FILE [FILTER]: records (matching FILTER) in a pcap file.
pcap_count()
{
	local f=$1
	shift
	tcpdump -nr "$f" "$@" 2>/dev/null | wc -l
}

# stat_of NAME FIELD: one counter of a capture.
stat_of()
{
	req GET "/api/v1/captures/$1/stats"
	[ "$CODE" = 200 ] || api_fail "stats $1: $CODE $BODY"
	jget ".$2"
}

# wait_stat NAME FIELD WANT [SECONDS]: polls the counter until it equals
# WANT (the writer counts once its buffer is flushed).
wait_stat()
{
	local i got
	for ((i = 0; i < ${4:-10} * 10; i++)); do
		got=$(stat_of "$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.1
	done
	api_fail "stats $1 $2: want $3, got $got"
}

# seqs_ok FILE PORT N: the records of FILE sent to UDP PORT are exactly
# sequence numbers 0..N-1 in order (as api_send sent them).
seqs_ok()
{
	local got want
	got=$(python3 "$API_DIR/pcap_seqs.py" "$1") || api_fail "$1: not a valid pcap"
	got=$(grep "^$2 " <<<"$got" || true)
	want=$(seq 0 $(($3 - 1)) | sed "s/^/$2 /")
	[ "$got" = "$want" ] ||
		api_fail "$1: want $3 records to port $2 in order, got $(grep -c . <<<"$got"): $(head -3 <<<"$got" | tr '\n' ' ')..."
}

# api_slow_clang: the appliance's clang (CAPTURE_APPLIANCE_CLANG) takes 6 s
# once $API_TMP/slow exists, and touches $API_TMP/compiling when it starts;
# api_wait_compiling waits for that. Call before api_start.
api_slow_clang()
{
	mkdir -p "$API_TMP/bin"
	cat >"$API_TMP/bin/clang" <<WRAP
#!/bin/sh
if [ -e "$API_TMP/slow" ]; then
	touch "$API_TMP/compiling"
	sleep 6
fi
exec /usr/bin/clang "\$@"
WRAP
	chmod +x "$API_TMP/bin/clang"
	export CAPTURE_APPLIANCE_CLANG="$API_TMP/bin/clang"
}

api_wait_compiling()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$API_TMP/compiling" ] && return 0
		sleep 0.05
	done
	api_fail "the filter compile did not start${1:+ ($1)}"
}

# timed CODE METHOD PATH [BODY]: expect, and within 3 s: tens of ms are
# usual, but the time includes starting ip netns exec and curl on a busy
# machine; still far under the 6-s compile the tests hold beside it
timed()
{
	local t0 t1 ms
	t0=$(date +%s%N)
	expect "$@"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	api_log "$2 $3: $CODE in $ms ms"
	((ms < 3000)) || api_fail "$2 $3 took $ms ms"
}
