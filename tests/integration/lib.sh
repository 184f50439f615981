# shellcheck shell=bash
# Helpers for the end-to-end capture tests. Source from a test script:
#
#   source "$(dirname "$0")/lib.sh"
#   it_init BINARY TAG [--queues N]   # hosts "it<TAG><pid>", tmp dir, cleanup trap
#   it_start --mode ingress --filter udp ...   # appliance in the capture namespace
#   it_send_in  --count 200 --expect "$IT_TMP/in.pcap"   # peer -> capture veth
#   it_send_out --count 200 --expect "$IT_TMP/out.pcap"  # capture veth -> peer
#   it_stop                                     # SIGINT, waits, checks exit 0
#   it_check "$IT_DUMP.pcap" --expect ... --all-captured ...
#
# The appliance runs inside the capture namespace, so it can only ever see
# the test's own veth; its REST port is that namespace's own loopback.

IT_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
IT_SRC=$(readlink -f "$IT_DIR/../..")
# shellcheck source=scripts/netns/lib.sh
source "$IT_SRC/scripts/netns/lib.sh"

it_log() { echo "[$(date +%T.%3N)] $*"; }

it_fail()
{
	echo "FAIL: $*" >&2
	if [ -n "${IT_LOG:-}" ] && [ -f "$IT_LOG" ]; then
		echo "---- appliance log ($IT_LOG) ----" >&2
		tail -n 40 "$IT_LOG" >&2
	fi
	exit 1
}

# it_init BINARY TAG [nh_up options]
it_init()
{
	IT_BIN=$(readlink -f "$1")
	local tag=$2
	shift 2
	[ -x "$IT_BIN" ] || { echo "FAIL: no appliance binary at '$IT_BIN'" >&2; exit 1; }
	[ "$(id -u)" -eq 0 ] || { echo "FAIL: the integration tests need root" >&2; exit 1; }
	nh_cleanup_trap
	IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/it-$tag.XXXXXX")
	nh_cleanup_add "rm -rf '$IT_TMP'"
	IT_DUMP=$IT_TMP/cap
	IT_PID=
	IT_ID=it$tag$(($$ % 100000))
	nh_up "$IT_ID" "$@" || it_fail "could not create the test hosts $IT_ID"
	it_log "hosts $NH_CAP_NS/$NH_CAP_IF <-> $NH_PEER_NS/$NH_PEER_IF, tmp $IT_TMP"
}

# Runs a command in the capture / peer namespace.
it_cap() { ip netns exec "$NH_CAP_NS" "$@"; }
it_peer() { ip netns exec "$NH_PEER_NS" "$@"; }

# it_start [appliance start options]: starts `start --iface CAPVETH --dump
# $IT_DUMP ...` (no --dump of ours if the options have one, or with
# IT_NO_DUMP=1) in the background (log: $IT_LOG, pid: $IT_PID) and waits
# until it reports its capture running (and its REST server, unless
# --listen off). Fails the test if it exits instead.
it_start()
{
	local n=${IT_NSTART:-0} want i
	IT_NSTART=$((n + 1))
	IT_LOG=$IT_TMP/appliance.$n.log
	local dump=(--dump "$IT_DUMP")
	[[ " $* " != *" --dump "* ]] && [ -z "${IT_NO_DUMP:-}" ] || dump=()
	it_log "start: capture-appliance start --iface $NH_CAP_IF ${dump[*]} --stats-interval 0 $*"
	ip netns exec "$NH_CAP_NS" "$IT_BIN" start --iface "$NH_CAP_IF" "${dump[@]}" \
		--stats-interval 0 "$@" >"$IT_LOG" 2>&1 &
	IT_PID=$!
	nh_cleanup_add "it_kill_appliance $IT_PID"
	want="capture [^ ]+ on $NH_CAP_IF:"
	[[ " $* " == *" --listen off "* ]] || want="REST API on"
	for ((i = 0; i < 200; i++)); do
		grep -Eq "$want" "$IT_LOG" && return 0
		kill -0 "$IT_PID" 2>/dev/null || {
			wait "$IT_PID"
			it_fail "appliance exited with status $? before it was ready"
		}
		sleep 0.05
	done
	it_fail "appliance not ready after 10 s"
}

# Kills PID if it still is an appliance (a pid may be reused once it is
# gone); nh_down later kills whatever else still runs in the namespaces.
it_kill_appliance()
{
	[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$IT_BIN" ] && kill -KILL "$1"
	return 0
}

# it_start_fails [options]: runs `start` in the foreground and expects it to
# refuse; status in IT_RC, output in $IT_LOG.
it_start_fails()
{
	local n=${IT_NSTART:-0}
	IT_NSTART=$((n + 1))
	IT_LOG=$IT_TMP/appliance.$n.log
	it_log "start (must fail): capture-appliance start $*"
	IT_RC=0
	timeout 30 ip netns exec "$NH_CAP_NS" "$IT_BIN" start --stats-interval 0 "$@" \
		>"$IT_LOG" 2>&1 || IT_RC=$?
	it_log "exit status $IT_RC: $(tr '\n' ' ' <"$IT_LOG" | cut -c1-400)"
	[ "$IT_RC" -ne 0 ] || it_fail "start succeeded, expected an error"
	[ "$IT_RC" -ne 124 ] || it_fail "start still running after 30 s, expected an error"
}

# it_stop [SIGNAL]: signals the appliance (default INT), waits up to 30 s;
# exit status in IT_RC. With INT/TERM the status must be 0.
it_stop()
{
	local sig=${1:-INT} i
	it_log "stop: SIG$sig"
	kill -"$sig" "$IT_PID" 2>/dev/null || it_fail "appliance already gone before SIG$sig"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$IT_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$IT_PID" 2>/dev/null; then
		kill -KILL "$IT_PID"
		it_fail "appliance did not exit within 30 s of SIG$sig"
	fi
	IT_RC=0
	wait "$IT_PID" || IT_RC=$?
	if [ "$sig" = INT ] || [ "$sig" = TERM ] || [ "$sig" = HUP ] || [ "$sig" = QUIT ]; then
		[ "$IT_RC" -eq 0 ] || it_fail "exit status $IT_RC after SIG$sig"
	fi
}

# Traffic. Defaults come from the hosts (addresses, MACs, UDP port 7777).
# it_send_in ARGS: raw frames from the peer into the capture veth (ingress).
it_send_in()
{
	it_peer python3 "$IT_DIR/send.py" --mode raw --iface "$NH_PEER_IF" \
		--src-mac "$NH_PEER_MAC" --dst-mac "$NH_CAP_MAC" \
		--src-ip "$NH_PEER_IP" --dst-ip "$NH_CAP_IP" "$@" || it_fail "send.py (ingress) failed"
}

# it_send_out ARGS: raw frames from the capture veth to the peer (egress).
it_send_out()
{
	it_cap python3 "$IT_DIR/send.py" --mode raw --iface "$NH_CAP_IF" \
		--src-mac "$NH_CAP_MAC" --dst-mac "$NH_PEER_MAC" \
		--src-ip "$NH_CAP_IP" --dst-ip "$NH_PEER_IP" "$@" || it_fail "send.py (egress) failed"
}

# it_send_out_udp ARGS: UDP datagrams through the capture host's own stack.
it_send_out_udp()
{
	it_cap python3 "$IT_DIR/send.py" --mode udp \
		--src-mac "$NH_CAP_MAC" --dst-mac "$NH_PEER_MAC" \
		--src-ip "$NH_CAP_IP" --dst-ip "$NH_PEER_IP" "$@" || it_fail "send.py (egress udp) failed"
}

# it_sink_start [PORT]: a UDP socket on the capture host (default port 7777)
# counting the send.py datagrams its stack delivers; it_sink_stop [PORT]
# stops it and sets IT_SINK_GOT to the count (not in $(...): the sink must
# be this shell's child).
it_sink_start()
{
	local port=${1:-7777} i
	# Not through it_cap: $! must be the process itself, not a subshell.
	ip netns exec "$NH_CAP_NS" python3 "$IT_DIR/recv.py" --bind "$NH_CAP_IP" --port "$port" \
		--out "$IT_TMP/sink.$port.count" >"$IT_TMP/sink.$port.log" 2>&1 &
	IT_SINKS[$port]=$! # nh_down kills it if the test ends early
	for ((i = 0; i < 200; i++)); do
		grep -q ready "$IT_TMP/sink.$port.log" && return 0
		sleep 0.05
	done
	it_fail "UDP sink on port $port not ready: $(cat "$IT_TMP/sink.$port.log")"
}

it_sink_stop()
{
	local port=${1:-7777}
	sleep 0.3
	kill -TERM "${IT_SINKS[$port]}"
	wait "${IT_SINKS[$port]}" || it_fail "UDP sink failed: $(cat "$IT_TMP/sink.$port.log")"
	IT_SINK_GOT=$(cat "$IT_TMP/sink.$port.count")
}

# it_wait_file FILE...: waits (up to 20 s) until every FILE exists (send.py
# --started FILE: the sender's first frame is out).
it_wait_file()
{
	local f i
	for f in "$@"; do
		for ((i = 0; i < 200; i++)); do
			[ -e "$f" ] && break
			sleep 0.1
		done
		[ -e "$f" ] || it_fail "$f did not appear within 20 s"
	done
}

# it_check PCAP [pcapcheck options]: the file must read cleanly with tcpdump
# and capinfos (and agree with them on the record count), then pass
# pcapcheck.py's checks.
declare -A IT_VETTED=() IT_SINKS=()

it_check()
{
	local f=$1 n_td n_ci n_py id
	shift
	[ -f "$f" ] || it_fail "no capture file $f"
	# tcpdump and capinfos once per version of the file (they are slow to start).
	id=$(stat -c '%s:%Y:%i' "$f")
	if [ "${IT_VETTED[$f]:-}" != "$id" ]; then
		n_td=$(tcpdump -nn -r "$f" 2>"$IT_TMP/tcpdump.err" | wc -l) ||
			it_fail "tcpdump -r $f failed: $(cat "$IT_TMP/tcpdump.err")"
		grep -qi "truncated\|error" "$IT_TMP/tcpdump.err" &&
			it_fail "tcpdump -r $f: $(cat "$IT_TMP/tcpdump.err")"
		n_ci=$(capinfos -M -T -r -c "$f" 2>&1 | awk -F'\t' 'NF >= 2 {print $2; exit}')
		n_py=$(it_records "$f")
		[ "$n_td" = "$n_py" ] && [ "$n_ci" = "$n_py" ] ||
			it_fail "record counts disagree: tcpdump $n_td, capinfos '$n_ci', pcapcheck '$n_py'"
		IT_VETTED[$f]=$id
	fi
	python3 "$IT_DIR/pcapcheck.py" "$f" "$@" || it_fail "pcapcheck $f $*"
}

# it_records PCAP: number of records (after it_check has vetted the file).
it_records()
{
	python3 "$IT_DIR/pcapcheck.py" "$1" | sed -n 's/.* records=\([0-9]*\) .*/\1/p'
}

# What is attached to the capture veth: "xdp" and/or "tc-egress" / "tc-ingress".
it_attached()
{
	local out=""
	ip -n "$NH_CAP_NS" -d link show dev "$NH_CAP_IF" | grep -Eq "prog/xdp|xdpgeneric|xdpdrv|xdp id" &&
		out+="xdp "
	[ -n "$(tc -n "$NH_CAP_NS" filter show dev "$NH_CAP_IF" egress 2>/dev/null)" ] && out+="tc-egress "
	[ -n "$(tc -n "$NH_CAP_NS" filter show dev "$NH_CAP_IF" ingress 2>/dev/null)" ] && out+="tc-ingress "
	echo "${out% }"
}

it_assert_nothing_attached()
{
	local a
	a=$(it_attached)
	[ -z "$a" ] || it_fail "left attached to $NH_CAP_IF after $1: $a
$(ip -n "$NH_CAP_NS" -d link show dev "$NH_CAP_IF")
$(tc -n "$NH_CAP_NS" filter show dev "$NH_CAP_IF" egress)"
}

# it_final_counter NAME: a counter from the appliance's "final" line
# ("... matched 800 written 800 dropped 0 (redirect failed 0, ...").
it_final_counter()
{
	local line
	line=$(grep -m1 " final " "$IT_LOG") || it_fail "no final counters line in the log"
	echo "$line" | grep -oE "[(, ]$1 [0-9]+" | head -1 | grep -oE "[0-9]+$" ||
		it_fail "no counter '$1' in: $line"
}

# it_rest METHOD PATH [JSON]: REST call to the appliance inside the capture
# namespace; sets IT_HTTP (status, 000 if none) and IT_BODY.
it_rest()
{
	local m=$1 p=$2 body=${3:-}
	local args=(-sS -m 60 -o "$IT_TMP/rest.body" -w '%{http_code}' -X "$m")
	# the server's own token, as root's CLI reads it
	[ -r /run/capture-appliance/api.token ] &&
		args+=(-H "Authorization: Bearer $(cat /run/capture-appliance/api.token)")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
	rm -f "$IT_TMP/rest.body"
	IT_HTTP=$(it_cap curl "${args[@]}" "http://127.0.0.1:9000$p") || IT_HTTP=000
	if [ -f "$IT_TMP/rest.body" ] && [ "$(tr -d -c '\000' <"$IT_TMP/rest.body" | wc -c)" != 0 ]; then
		# a capture file: its bytes would bury the log
		IT_BODY=$(tr -d '\000' <"$IT_TMP/rest.body" || true)
		it_log "REST $m $p ${body:+$body }-> $IT_HTTP ($(stat -c %s "$IT_TMP/rest.body") bytes of binary)"
	else
		IT_BODY=$(cat "$IT_TMP/rest.body" 2>/dev/null || true)
		it_log "REST $m $p ${body:+$body }-> $IT_HTTP $(echo "$IT_BODY" | cut -c1-300)"
	fi
}

it_pass() { it_log "PASS: $*"; }

# it_wait_written N: until the capture's stats say N records were written.
# Whatever counts or lists files waits for this first: a record still in the
# writer's merge window may yet rotate the file that looks open.
it_wait_written()
{
	local i
	for ((i = 0; i < 100; i++)); do
		it_rest GET "/api/v1/captures/$NH_CAP_IF/stats" >/dev/null
		[ "$(jq -r .written <<<"$IT_BODY" 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
	done
	it_fail "written never reached $1: $IT_BODY"
}
