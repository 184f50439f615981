#!/bin/bash
# The unit under a real systemd. systemd is not PID 1 on this machine, so
# the test boots one in a container: systemd-nspawn --volatile=yes (this
# system's /usr read-only, everything else a fresh tmpfs: nothing of this
# system is written) with its own network namespace (only interfaces the
# test makes there). The unit is the packaged one; a drop-in points
# ExecStart at the binary under test (/usr is read-only in the container).
# Proves: Type=notify start returns once READY (STATUS set), the sandbox is
# applied (bounding set = the core's list, no_new_privs, seccomp) and
# capture still works in it (clang compiles filters, frames are written to
# /var/lib/capture-appliance), the client verbs work, systemctl stop closes
# the file cleanly, Restart=on-failure after SIGKILL (the new run removes
# the dead one's leftovers), the watchdog restarts a hung appliance, and a
# REST port below 1024 needs (and works with) the drop-in the README gives.
set -euo pipefail
BIN=$(readlink -f "$1")
SRC=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
UNIT=$SRC/packaging/systemd/capture-appliance@.service
T=$(mktemp -d "${TMPDIR:-/tmp}/nspawn.XXXXXX")
MACHINE=ca-unit-$$
NSPAWN=
L=
fail()
{
	echo "FAIL: $*" >&2
	[ -n "$L" ] && in_c journalctl -u capture-appliance@lab --no-pager 2>/dev/null | tail -20 >&2
	exit 1
}
cleanup()
{
	set +e
	if [ -n "$L" ] && kill -0 "$L" 2>/dev/null; then
		nsenter -t "$L" -a systemctl poweroff >/dev/null 2>&1 || true
		for ((i = 0; i < 100; i++)); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
	fi
	[ -n "$NSPAWN" ] && kill -KILL "$NSPAWN" 2>/dev/null
	wait 2>/dev/null
	# nspawn leaves an empty folder per run here; ours go
	for d in /run/systemd/nspawn/propagate/*; do
		[ -d "$d" ] && ! grep -qxF "$d" "$T/propagate" 2>/dev/null && rmdir "$d" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
in_c() { nsenter -t "$L" -a "$@"; }
prop() { in_c systemctl show -p "$1" --value capture-appliance@lab; }
# logged TEXT: the unit's journal has TEXT (journald writes asynchronously)
logged() { in_c journalctl -u capture-appliance@lab --no-pager | grep -qF "$1"; }
# until SECONDS CMD...: polls CMD every 0.1 s
until_ok()
{
	local n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

mkdir -p "$T/dropin"
cp "$BIN" "$T/capture-appliance"
printf '[Service]\nExecStart=\nExecStart=/opt/ca/capture-appliance start --config /etc/capture-appliance/%%i.conf\n' \
	>"$T/dropin/path.conf"
cat >"$T/lab.conf" <<'CONF'
iface ns0
name lab
filter udp port 5555
dump /var/lib/capture-appliance/lab
stats-interval 1
CONF
ls -d /run/systemd/nspawn/propagate/* >"$T/propagate" 2>/dev/null || true
# (--register/--keep-unit: no systemd on this side to register with;
# basic.target and no wait for the network: the host's own services, e.g.
# a Swift installed beside us, are not this test's business)
systemd-nspawn -D / --volatile=yes --private-network --capability=all \
	--system-call-filter='bpf perf_event_open' --machine="$MACHINE" --console=passive \
	--register=no --keep-unit \
	--bind-ro="$T/capture-appliance:/opt/ca/capture-appliance" \
	--bind-ro="$UNIT:/etc/systemd/system/capture-appliance@.service" \
	--bind-ro="$T/dropin:/etc/systemd/system/capture-appliance@.service.d" \
	--bind-ro="$T/lab.conf:/etc/capture-appliance/lab.conf" \
	--bind-ro=/dev/null:/etc/systemd/system/systemd-firstboot.service \
	--bind-ro=/dev/null:/etc/systemd/system/systemd-networkd-wait-online.service \
	--boot -- systemd.unit=basic.target >"$T/nspawn.log" 2>&1 &
NSPAWN=$!
until_ok 20 pgrep -P "$NSPAWN" || fail "nspawn did not start: $(cat "$T/nspawn.log")"
L=$(pgrep -P "$NSPAWN")
booted() { [[ "$(in_c systemctl is-system-running)" =~ ^(running|degraded)$ ]]; }
until_ok 60 booted || fail "the container's systemd did not boot: $(in_c systemctl list-jobs)"

# the capture interface and a peer namespace, inside the container
in_c ip link add ns0 type veth peer name ns1
in_c ip addr add 10.77.0.1/24 dev ns0
in_c ip link set ns0 up
in_c ip netns add peer
in_c ip link set ns1 netns peer
in_c ip netns exec peer ip addr add 10.77.0.2/24 dev ns1
in_c ip netns exec peer ip link set ns1 up

in_c systemctl start capture-appliance@lab || fail "systemctl start failed"
[ "$(prop ActiveState)" = active ] || fail "not active after start"
[ "$(prop StatusText)" = "capturing lab on ns0, REST API 127.0.0.1:9000" ] ||
	fail "STATUS after READY: '$(prop StatusText)'"
PID=$(prop MainPID)
st=$(in_c cat "/proc/$PID/status")
# the core's capabilities: BPF 39 PERFMON 38 NET_ADMIN 12 NET_RAW 13
# IPC_LOCK 14 SYS_ADMIN 21 CHOWN 0
want=$(printf '%016x' $(((1 << 39) | (1 << 38) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 21) | 1)))
grep -q "^CapBnd:[[:space:]]*$want$" <<<"$st" || fail "bounding set: $(grep CapBnd <<<"$st"), want $want"
grep -q "^NoNewPrivs:[[:space:]]*1$" <<<"$st" || fail "no_new_privs not set"
grep -q "^Seccomp:[[:space:]]*2$" <<<"$st" || fail "no seccomp filter"
[ "$(in_c readlink "/proc/$PID/ns/mnt")" != "$(in_c readlink /proc/1/ns/mnt)" ] ||
	fail "the service shares systemd's mount namespace"

in_c ip netns exec peer python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(100):
    s.sendto(b'x' * 60, ('10.77.0.1', 5555))
    time.sleep(0.002)"
counted() { [[ "$(prop StatusText)" =~ ^lab:\ seen\ [0-9]+\ matched\ 100\ written\ 100\ dropped\ 0$ ]]; }
until_ok 10 counted || fail "STATUS: '$(prop StatusText)', want 100 matched and written"
# the client verbs, and a filter compiled by clang inside the sandbox
in_c /opt/ca/capture-appliance set lab filter="udp port 6666" >/dev/null || fail "set filter"
[ "$(in_c /opt/ca/capture-appliance show lab filter)" = "udp port 6666" ] || fail "show filter"
in_c systemctl stop capture-appliance@lab
[ "$(prop Result)" = success ] || fail "stop: result $(prop Result)"
until_ok 10 logged "lab: closed /var/lib/capture-appliance/lab.pcap" ||
	fail "no clean close in the journal"
n=$(in_c capinfos -c -M /var/lib/capture-appliance/lab.pcap | sed -n 's/^Number of packets: *//p')
[ "$n" = 100 ] || fail "lab.pcap holds $n packets, want 100"

# Restart=on-failure: SIGKILL leaves programs attached; the next run removes them
in_c systemctl start capture-appliance@lab
PID=$(prop MainPID)
in_c kill -KILL "$PID"
restarted() { [ "$(prop ActiveState)" = active ] && [ "$(prop NRestarts)" = 1 ] && [ "$(prop MainPID)" != "$PID" ]; }
until_ok 20 restarted || fail "not restarted after SIGKILL: $(prop ActiveState) $(prop NRestarts)"
until_ok 10 logged "removed leftovers of a dead capture-appliance (pid $PID)" ||
	fail "the restarted run did not remove the dead one's leftovers"

# the watchdog (3 s here) restarts an appliance that stopped answering
printf '[Service]\nWatchdogSec=3\n' >"$T/dropin/watchdog.conf"
in_c systemctl daemon-reload
in_c systemctl restart capture-appliance@lab
PID=$(prop MainPID)
R0=$(prop NRestarts)
sleep 7 # pings keep it alive past two periods
[ "$(prop MainPID)" = "$PID" ] || fail "restarted although it pinged the watchdog"
in_c kill -STOP "$PID"
wd() { [ "$(prop NRestarts)" -gt "$R0" ] && [ "$(prop ActiveState)" = active ]; }
until_ok 20 wd || fail "the watchdog did not restart a stopped appliance"
until_ok 10 logged "Watchdog timeout" || fail "no watchdog timeout logged"
in_c systemctl stop capture-appliance@lab

# a REST port below 1024: refused with the unit's capabilities alone, served
# with CAP_NET_BIND_SERVICE added in a drop-in (as the README says)
in_c sh -c 'printf "iface ns0\nfilter udp\nlisten 127.0.0.1:443\n" >/etc/capture-appliance/low.conf'
in_c systemctl start capture-appliance@low 2>/dev/null && fail "port 443 served without CAP_NET_BIND_SERVICE"
in_c systemctl stop capture-appliance@low 2>/dev/null || true
in_c mkdir -p /etc/systemd/system/capture-appliance@low.service.d
in_c sh -c 'printf "[Service]\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n" \
	>/etc/systemd/system/capture-appliance@low.service.d/port.conf'
in_c systemctl daemon-reload
in_c systemctl reset-failed capture-appliance@low 2>/dev/null || true
in_c systemctl start capture-appliance@low || fail "port 443 with the drop-in: start failed"
[ "$(in_c systemctl show -p StatusText --value capture-appliance@low)" = \
	"capturing ns0 on ns0, REST API 127.0.0.1:443" ] || fail "low: not serving on 443"
in_c systemctl stop capture-appliance@low
echo "PASS: under systemd: notify, sandbox, capture of 100 frames, clean stop, restart after SIGKILL, watchdog restart, low port with the drop-in"
