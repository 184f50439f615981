#!/bin/bash
# What a capture may write and where it may capture:
# - two captures never share a dump prefix: a POST or a PATCH onto another
#   capture's prefix gets 409 and changes nothing (the first one's file
#   keeps growing);
# - --allow-iface limits the interfaces: a POST or an interface move to one
#   outside the patterns gets 400 naming the option; one inside works;
# - moving a capture to another interface keeps its file (the records
#   taken before the move stay).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" fp

in_cap ip link add "${API_ID}a" type veth peer name "${API_ID}b"
in_cap ip link add "${API_ID}z" type veth peer name "${API_ID}w"
for i in a b z w; do in_cap ip link set "${API_ID}$i" up; done
api_start --mode ingress --filter "udp port 5555" --allow-iface "${API_ID}c*,${API_ID}[ab]"
api_send 5555 20
wait_stat first written 20

# no sharing of a file
expect 409 POST /api/v1/captures "{\"name\":\"twin\",\"iface\":\"${API_ID}a\",\"dump\":\"$API_TMP/first\"}"
jget .error | grep -q "two captures never share a file" || api_fail "409 without the reason: $BODY"
expect 201 POST /api/v1/captures "{\"name\":\"second\",\"iface\":\"${API_ID}a\",\"dump\":\"$API_TMP/second\"}"
expect 409 PATCH /api/v1/captures/second "{\"dump\":\"$API_TMP/first\"}"
expect 200 GET /api/v1/captures/second
api_send 5555 10
wait_stat first written 30
[ "$(pcap_count "$API_TMP/first.pcap")" = 30 ] || api_fail "first.pcap lost records"

# interfaces
expect 400 POST /api/v1/captures "{\"name\":\"third\",\"iface\":\"${API_ID}z\"}"
jget .error | grep -q -- "--allow-iface" || api_fail "no reason: $BODY"
expect 400 PUT /api/v1/captures/second/iface "\"${API_ID}z\""
expect 200 GET /api/v1/captures/second
jeq .iface "${API_ID}a"
expect 200 PUT /api/v1/captures/second/iface "\"${API_ID}b\""
jeq . "${API_ID}b"

# a move keeps the file
expect 200 PUT /api/v1/captures/first/iface "\"${API_ID}a\""
expect 200 GET /api/v1/captures/first/stats
jeq .written 30
[ "$(pcap_count "$API_TMP/first.pcap")" = 30 ] || api_fail "the move replaced first.pcap"
api_alive
api_stop
echo PASS
