#!/bin/bash
# start with a dump that names a folder ("DIR" would write DIR.pcap, "DIR/"
# a hidden DIR/.pcap) or, with --dump-root, lies outside the root: refused
# like REST refuses it, before anything is attached, nothing created.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" lbd

mkdir "$IT_TMP/dir" "$IT_TMP/root" "$IT_TMP/other"
refused() # WHAT GREP-PATTERN [start options]
{
	local what=$1 pat=$2
	shift 2
	it_start_fails --iface "$NH_CAP_IF" --mode bidirectional --filter udp "$@"
	grep -q "$pat" "$IT_LOG" || it_fail "$what: the message does not say '$pat'"
	[ -z "$(find "$IT_TMP" -name '*.pcap')" ] || it_fail "$what: created $(find "$IT_TMP" -name '*.pcap')"
	it_assert_nothing_attached "a refused start ($what)"
}
refused "folder" "is a folder" --dump "$IT_TMP/dir"
refused "folder/" "must name a file prefix" --dump "$IT_TMP/dir/"
refused "outside the root" "outside the dump root" --dump-root "$IT_TMP/root" \
	--dump "$IT_TMP/other/cap"
refused "'..' under the root" "must not contain '..'" --dump-root "$IT_TMP/root" \
	--dump "../other/cap"
[ ! -e "$IT_TMP.pcap" ] || it_fail "$IT_TMP.pcap created"

# The root binds --dump, a relative one lies in it: this start runs.
it_start --dump-root "$IT_TMP/root" --dump cap --mode ingress --filter udp --listen off
grep -q "writing $IT_TMP/root/cap.pcap" "$IT_LOG" || it_fail "relative --dump not taken in the root"
it_stop INT
[ -s "$IT_TMP/root/cap.pcap" ] || it_fail "no $IT_TMP/root/cap.pcap"
it_pass "dumps naming a folder or outside the dump root refused before attaching"
