#!/bin/bash
# The systemd unit: `systemd-analyze verify` accepts an instance of it with
# nothing to say (an unknown key, a bad value or a missing ExecStart binary
# is printed, so any output fails), in a scratch root holding the binary at
# its installed path and the host's own system units (systemd is not PID 1
# here, and nothing is installed on this system). A unit with a misspelt key
# must fail the same check, so the check can fail. Then the unit's key
# settings, and the example configuration read as ExecStart reads it.
set -euo pipefail
BIN=$(readlink -f "$1")
SRC=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
UNIT=$SRC/packaging/systemd/capture-appliance@.service
R=$(mktemp -d "${TMPDIR:-/tmp}/unit.XXXXXX")
trap 'rm -rf "$R"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$R/usr/bin" "$R/usr/lib/systemd" "$R/etc/systemd/system" "$R/etc/capture-appliance"
cp "$BIN" "$R/usr/bin/capture-appliance"
cp -a /usr/lib/systemd/system "$R/usr/lib/systemd/"
cp "$UNIT" "$R/etc/systemd/system/"
out=$(systemd-analyze verify --man=no --root="$R" capture-appliance@lab.service 2>&1) ||
	fail "verify: exit $?: $out"
[ -z "$out" ] || fail "verify printed: $out"

sed 's/^ProtectHome=yes/ProtectHme=yes/' "$UNIT" >"$R/etc/systemd/system/capture-appliance@.service"
out=$(systemd-analyze verify --man=no --root="$R" capture-appliance@lab.service 2>&1) || true
grep -q "Unknown key 'ProtectHme'" <<<"$out" || fail "a misspelt key went unnoticed: $out"
cp "$UNIT" "$R/etc/systemd/system/"

# what the unit promises: notify, watchdog, restart, exactly the core's
# capabilities (capture/privs.c's list: the core fails when it holds one
# more and lacks CAP_SETPCAP to drop it), the read-only system with the
# dump folder writable
show=$(systemd-analyze security --offline=yes --root="$R" capture-appliance@lab.service \
	--no-pager 2>&1) || fail "security: $show"
grep -q 'Overall exposure level' <<<"$show" || fail "security: $show"
grep -E '^\s*CAP_[A-Z_]+,' "$SRC/capture/privs.c" | sed 's/^\s*\(CAP_[A-Z_]*\),.*/\1/' |
	sort >"$R/privs"
sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' | sort >"$R/unitcaps"
[ -s "$R/privs" ] && diff "$R/privs" "$R/unitcaps" >/dev/null ||
	fail "CapabilityBoundingSet differs from capture/privs.c: $(diff "$R/privs" "$R/unitcaps")"
for kv in Type=notify Restart=on-failure ProtectSystem=strict ProtectHome=yes \
	NoNewPrivileges=yes PrivateTmp=yes 'ReadWritePaths=/var/lib/capture-appliance /run/capture-appliance' \
	'ExecStart=/usr/bin/capture-appliance start --config /etc/capture-appliance/%i.conf'; do
	grep -qxF "$kv" "$UNIT" || fail "the unit lacks $kv"
done
grep -qE '^WatchdogSec=[1-9]' "$UNIT" || fail "no WatchdogSec"

# The example configuration is read whole: with an --iface that does not
# exist on the command line (which wins; nothing may be attached to a real
# interface here), the only refusal left is that interface's.
cp "$SRC/packaging/capture-appliance.conf.example" "$R/etc/capture-appliance/lab.conf"
grep -qE '^iface ' "$R/etc/capture-appliance/lab.conf" || fail "the example names no iface"
rc=0
"$R/usr/bin/capture-appliance" start --config "$R/etc/capture-appliance/lab.conf" \
	--iface ca-none0 >"$R/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && [ "$(cat "$R/out")" = "capture-appliance: ca-none0: no such interface" ] ||
	fail "the example configuration: exit $rc: $(cat "$R/out")"
echo "PASS: systemd-analyze verify clean, a misspelt key caught, unit settings and capabilities as the core's"
