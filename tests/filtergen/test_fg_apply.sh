#!/bin/bash
# `filter apply -r IN -w OUT EXPR` writes the same file as
# `tcpdump -r IN -w OUT EXPR` (byte for byte; tcpdump --nano for pcapng
# inputs, whose output keeps nanoseconds), and reports "N of M packets
# matched" with N = the records tcpdump kept. A wrong filter must be caught.
# Usage: test_fg_apply.sh FG_TOOL CORPUS_DIR
set -u
tool=$1 corpus=$2
tmp=$(mktemp -d /tmp/fg-apply-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0 runs=0

files=(
	pcaps/bgp-4byte-asn.pcap          # tcp, arp
	pcaps/vrrp.pcap                   # ipv4 + ipv6 multicast
	pcaps/babel_update_oobr.pcap      # 107 records cut short, fragments
	pcaps/bgp_vpn_rt-oobr.pcap        # 37 empty records
	pcaps/OSPFv3_with_AH.pcap         # ipv6 with AH (protochain)
	pcaps/aoe-oobr-1.pcap             # caplen > len
	pcaps/decnet-shorthdr-oobr.pcap   # FCS bits in the link-type field
	pcapng/OSPFv2_Capture_FINAL.pcapng
	pcapng/ahcp.pcapng
)
exprs=(
	"tcp port 179"
	"ip6"
	"udp and not port 53"
	"arp or icmp or igmp"
	"greater 100"
	"ip6 protochain 51"
	"ip[6:2] & 0x1fff != 0"
	"ether multicast"
	"all"
	"none"
)

compare() { # file expr
	local in=$corpus/$1 expr=$2 nano=() ref=$tmp/ref out=$tmp/out n_ref n_fg
	[[ $1 == *.pcapng ]] && nano=(--nano)
	case $expr in
	all) tcpdump "${nano[@]}" -r "$in" -w "$ref" 2>/dev/null ;;
	none) # the file header alone
		tcpdump "${nano[@]}" -r "$in" -w "$tmp/all" 2>/dev/null
		head -c 24 "$tmp/all" >"$ref" ;;
	*) tcpdump "${nano[@]}" -r "$in" -w "$ref" "$expr" 2>/dev/null ;;
	esac
	if ! "$tool" apply -r "$in" -w "$out" "$expr" 2>"$tmp/err"; then
		echo "FAIL: apply exited $? on $1 [$expr]: $(cat "$tmp/err")"
		fail=$((fail + 1))
		return
	fi
	runs=$((runs + 1))
	if ! cmp -s "$ref" "$out"; then
		echo "FAIL: $1 [$expr]: output differs from tcpdump"
		cmp "$ref" "$out" | head -2
		fail=$((fail + 1))
	fi
	n_ref=$(tcpdump --count -r "$ref" 2>/dev/null | sed -n "s/^\([0-9]*\) packets\?$/\1/p")
	n_fg=$(sed -n 's/^\([0-9]*\) of \([0-9]*\) packets matched$/\1/p' "$tmp/err")
	if [[ "$n_fg" != "$n_ref" ]]; then
		echo "FAIL: $1 [$expr]: reported '$(cat "$tmp/err")', tcpdump kept $n_ref"
		fail=$((fail + 1))
	fi
}

for f in "${files[@]}"; do
	[[ -r $corpus/$f ]] || { echo "FAIL: missing $corpus/$f"; fail=$((fail + 1)); continue; }
	for e in "${exprs[@]}"; do
		compare "$f" "$e"
	done
done

# Raw IP (LINKTYPE_RAW, tun/wireguard captures): the filter is compiled for
# the input's link type. Besides tcpdump's two raw samples, the IP packets
# of two Ethernet captures with their Ethernet header cut off.
to_raw() { # ethernet.pcap raw.pcap
	python3 - "$1" "$2" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
end = '<' if d[:4] == b'\xd4\xc3\xb2\xa1' else '>'
hdr = struct.unpack(end + 'IHHiIII', d[:24])
out = [struct.pack(end + 'IHHiIII', *hdr[:6], 101)]
off = 24
while off + 16 <= len(d):
    sec, frac, cap, wire = struct.unpack(end + 'IIII', d[off:off + 16])
    pkt = d[off + 16:off + 16 + cap]
    off += 16 + cap
    if cap > 14 and pkt[12:14] in (b'\x08\x00', b'\x86\xdd'):
        out.append(struct.pack(end + 'IIII', sec, frac, cap - 14, wire - 14) + pkt[14:])
open(sys.argv[2], 'wb').write(b''.join(out))
PY
}
mkdir -p "$tmp/raw/pcaps"
to_raw "$corpus/pcaps/vrrp.pcap" "$tmp/raw/pcaps/vrrp-raw.pcap"
to_raw "$corpus/pcaps/babel_update_oobr.pcap" "$tmp/raw/pcaps/babel-raw.pcap"
cp "$corpus"/extra_linktypes/LINKTYPE_RAW_ipv{4,6}.pcap "$tmp/raw/pcaps/"
raw_runs=$runs
corpus_eth=$corpus
corpus=$tmp/raw
for f in vrrp-raw babel-raw LINKTYPE_RAW_ipv4 LINKTYPE_RAW_ipv6; do
	n=$(tcpdump -r "$corpus/pcaps/$f.pcap" 2>/dev/null | wc -l)
	[[ $n -gt 0 ]] || { echo "FAIL: $f.pcap: tcpdump reads no packets"; fail=$((fail + 1)); }
	for e in ip ip6 udp "ip multicast" "udp port 53" "ip[9] == 112" "ip6 protochain 17" \
		"greater 100" all none; do
		compare "pcaps/$f.pcap" "$e"
	done
done
raw_runs=$((runs - raw_runs))
# the output says RAW (101) and an Ethernet-only word is refused with libpcap's message
"$tool" apply -r "$corpus/pcaps/vrrp-raw.pcap" -w "$tmp/lt" ip 2>/dev/null
[[ $(od -An -tu4 -j20 -N4 "$tmp/lt" | tr -d ' ') == 101 ]] ||
	{ echo "FAIL: raw output link type is not 101"; fail=$((fail + 1)); }
"$tool" apply -r "$corpus/pcaps/vrrp-raw.pcap" -w "$tmp/eth" "ether host 01:00:5e:00:00:12" \
	2>"$tmp/err"
rc=$?
[[ $rc == 2 ]] && grep -q "ethernet addresses supported only" "$tmp/err" ||
	{ echo "FAIL: 'ether host' on raw IP: rc $rc '$(cat "$tmp/err")'"; fail=$((fail + 1)); }
corpus=$corpus_eth

# multi-word expressions are joined like tcpdump's
"$tool" apply -r "$corpus/pcaps/bgp-4byte-asn.pcap" -w "$tmp/words" tcp port 179 2>/dev/null
tcpdump -r "$corpus/pcaps/bgp-4byte-asn.pcap" -w "$tmp/ref" tcp port 179 2>/dev/null
cmp -s "$tmp/words" "$tmp/ref" || { echo "FAIL: multi-word expression"; fail=$((fail + 1)); }

# self-check: a different filter must be noticed by the same comparison
"$tool" apply -r "$corpus/pcaps/bgp-4byte-asn.pcap" -w "$tmp/wrong" "tcp port 180" 2>/dev/null
if cmp -s "$tmp/wrong" "$tmp/ref"; then
	echo "FAIL: self-check: a wrong filter gave tcpdump's output"
	fail=$((fail + 1))
fi

# refused expression: exit 2, libpcap's message, no output file written
"$tool" apply -r "$corpus/pcaps/vrrp.pcap" -w "$tmp/bad" "tcp port" 2>"$tmp/err"
rc=$?
if [[ $rc != 2 ]] || ! grep -q "syntax error" "$tmp/err" || [[ -e $tmp/bad ]]; then
	echo "FAIL: refused expression: rc $rc, '$(cat "$tmp/err")'"
	fail=$((fail + 1))
fi

echo "apply vs tcpdump: $runs runs ($raw_runs on raw IP), $fail failures"
[[ $fail == 0 ]]
