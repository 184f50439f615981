#!/bin/bash
# `start` refuses bad fleet options before anything is attached, with a
# message that says what to fix (exit status 2): --fleet without --sensor,
# a bad sensor name, a bad NATS URL, a group- or world-readable or linked
# --fleet-creds, --fleet-* without --fleet; a config file's fleet-creds
# must be absolute. `fleet` itself refuses a missing --fleet and an
# unknown verb.
set -uo pipefail
bin=$(readlink -f "$1")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fl-opt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
refused() # MESSAGE-PATTERN ARGS...
{
	local pat=$1 out rc=0
	shift
	out=$("$bin" "$@" 2>&1) || rc=$?
	[ "$rc" -eq 2 ] || fail "'$*': exit status $rc, expected 2 ($out)"
	grep -q -- "$pat" <<<"$out" || fail "'$*': message '$out' lacks '$pat'"
	echo "refused: $* -> $(head -n1 <<<"$out")"
}
printf 'u:p\n' >"$tmp/creds"
chmod 644 "$tmp/creds"
ln -s "$tmp/creds" "$tmp/link"
base=(start --iface nosuchif0 --listen off)
refused "go together" "${base[@]}" --fleet nats://127.0.0.1:4222
refused "go together" "${base[@]}" --sensor s1
refused "A-Z a-z 0-9" "${base[@]}" --fleet nats://127.0.0.1:4222 --sensor 's.1'
refused "bad server URL" "${base[@]}" --fleet http://127.0.0.1:4222 --sensor s1
refused "chmod 600" "${base[@]}" --fleet nats://127.0.0.1:4222 --sensor s1 --fleet-creds "$tmp/creds"
chmod 640 "$tmp/creds"
refused "chmod 600" "${base[@]}" --fleet nats://127.0.0.1:4222 --sensor s1 --fleet-creds "$tmp/creds"
chmod 600 "$tmp/creds"
refused "symbolic link" "${base[@]}" --fleet nats://127.0.0.1:4222 --sensor s1 --fleet-creds "$tmp/link"
refused "need --fleet" "${base[@]}" --fleet-replicas 3
refused "fleet-replicas" "${base[@]}" --fleet nats://127.0.0.1:4222 --sensor s1 --fleet-replicas 0
refused "http" "${base[@]}" --fleet nats://127.0.0.1:4222 --sensor s1 --fleet-advertise 10.0.0.1:9000
printf 'fleet nats://127.0.0.1:4222\nsensor s1\nfleet-creds creds\n' >"$tmp/a.conf"
refused "absolute path" start --config "$tmp/a.conf"
refused "is required" fleet ls
refused "unknown verb" fleet --fleet nats://127.0.0.1:4222 frobnicate
refused "symbolic link" fleet --fleet nats://127.0.0.1:4222 --fleet-creds "$tmp/link" ls
echo PASS
