#!/bin/bash
# `filter compile`: the cBPF listing equals `tcpdump -d`, the C and eBPF
# views are produced, refused expressions exit 2 with libpcap's message,
# --help is true. Usage: test_fg_cli.sh FG_TOOL
set -u
tool=$1 fail=0
err=$(mktemp /tmp/fg-cli-XXXXXX)
trap 'rm -f "$err"' EXIT
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=$((fail + 1)); fi; }

for e in "tcp port 80" "ip6 protochain 6" "vlan 100 and udp" "ether[len - 4:4] == 1" "greater 64"; do
	check "listing of '$e' = tcpdump -d" \
		'[[ "$("$tool" compile "$e")" == "$(tcpdump -d "$e" 2>/dev/null)" ]]'
	check "listing -s 96 of '$e' = tcpdump -s 96 -d" \
		'[[ "$("$tool" compile -s 96 "$e")" == "$(tcpdump -s 96 -d "$e" 2>/dev/null)" ]]'
done
# --linktype raw: libpcap's program for DLT_RAW, as tcpdump -d gives it
# for a raw-IP capture file (an empty one, header only: LINKTYPE_RAW 101)
raw=$(mktemp /tmp/fg-cli-raw-XXXXXX)
trap 'rm -f "$err" "$raw"' EXIT
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\x00\x00\x04\x00\x65\x00\x00\x00' >"$raw"
for e in "tcp port 80" "ip6 protochain 6" "udp" "ip[9] == 17" "greater 64"; do
	check "listing --linktype raw of '$e' = tcpdump -r RAW.pcap -d" \
		'[[ "$("$tool" compile -s 262144 --linktype raw "$e")" == "$(tcpdump -r "$raw" -d "$e" 2>/dev/null)" ]]'
done
check "raw listing differs from Ethernet's" \
	'[[ "$("$tool" compile --linktype raw udp)" != "$("$tool" compile udp)" ]]'
check "--linktype en10mb is the default" \
	'[[ "$("$tool" compile --linktype en10mb udp)" == "$("$tool" compile udp)" ]]'
"$tool" compile --linktype raw "ether host 1:2:3:4:5:6" 2>"$err"; rc=$?
check "ether word on raw IP: exit 2 with libpcap's message (got $rc)" \
	'[[ $rc == 2 ]] && grep -q "ethernet addresses supported only" "$err"'
"$tool" compile --linktype ppp udp 2>"$err"; rc=$?
check "unknown --linktype is a usage error naming it (got $rc)" '[[ $rc == 2 ]] && grep -q ppp "$err"'
"$tool" apply --linktype raw -r "$raw" -w /dev/null udp 2>"$err"; rc=$?
check "apply takes the input's link type, --linktype refused (got $rc)" '[[ $rc == 2 ]]'
check "several words joined" '[[ "$("$tool" compile tcp port 80)" == "$(tcpdump -d tcp port 80 2>/dev/null)" ]]'
check "all is ret #snaplen" '[[ "$("$tool" compile -s 1500 all)" == "(000) ret      #1500" ]]'
check "none is ret #0" '[[ "$("$tool" compile none)" == "(000) ret      #0" ]]'
check "--emit c has labelled blocks" '"$tool" compile --emit c "tcp" | grep -q "^L0: /\* (000) ldh      \[12\] \*/"'
check "--emit ebpf lists verified instructions" '"$tool" compile --emit ebpf "tcp" | grep -q "(95) exit"'
"$tool" compile "tcp port" 2>"$err"; rc=$?
check "refused expression exits 2 (got $rc)" '[[ $rc == 2 ]]'
check "libpcap's message shown" 'grep -q "syntax error" "$err"'
"$tool" compile -s 0 tcp 2>/dev/null; rc=$?
check "snaplen 0 is a usage error" '[[ $rc == 2 ]]'
"$tool" compile --emit xml tcp 2>/dev/null; rc=$?
check "unknown --emit is a usage error" '[[ $rc == 2 ]]'
"$tool" compile 2>/dev/null; rc=$?
check "missing expression is a usage error" '[[ $rc == 2 ]]'
check "--help exits 0 and names both commands" \
	'"$tool" --help | grep -q "filter compile" && "$tool" --help | grep -q "filter apply"'
check "apply --help mentions -r and -w" '"$tool" apply --help | grep -q -- "-r IN.pcap -w OUT.pcap"'
"$tool" apply -r /nonexistent.pcap -w /dev/null tcp 2>"$err"; rc=$?
check "unreadable input exits 1 (got $rc)" '[[ $rc == 1 ]] && grep -q nonexistent "$err"'
echo "cli: $fail failures"
[[ $fail == 0 ]]
