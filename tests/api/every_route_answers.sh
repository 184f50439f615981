#!/bin/bash
# Every route of the server, happy path, over real HTTP: health, OpenAPI,
# list/create/get/patch/delete, GET and PUT of each field (the change shows
# in the next GET), stats, the dump download, a second capture on its own
# veth (409 for a taken name or interface), moving it to another interface,
# 404 for unknown captures/paths and 405 for a wrong method.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" rt
api_start --ingress-path afxdp # stats.queues counts AF_XDP workers

expect 200 GET /healthz
jeq '.status' ok
expect 200 GET /api/v1/openapi.json
jeq '.openapi[:2]' "3."

expect 200 GET /api/v1/captures
jeq '.[0].name' first
jeq 'length' 1

expect 200 GET /api/v1/captures/first
jeq '.iface' "$NH_CAP_IF"
jeq '.capture' bidirectional
jeq '.filter' none
jeq '.snaplen' 262144
jeq '.networkmode' false
jeq '.stats.queues' 1

# each field: GET, PUT a new value, GET shows it
expect 200 GET /api/v1/captures/first/capture
jeq . bidirectional
expect 200 PUT /api/v1/captures/first/capture '"ingress"'
jeq . ingress
expect 200 GET /api/v1/captures/first/capture
jeq . ingress

expect 200 PUT /api/v1/captures/first/filter '"udp port 5555"'
expect 200 GET /api/v1/captures/first/filter
jeq . "udp port 5555"

expect 200 PUT /api/v1/captures/first/snaplen '128'
expect 200 GET /api/v1/captures/first/snaplen
jeq . 128

mkdir "$API_TMP/d2"
expect 200 PUT /api/v1/captures/first/dump "\"$API_TMP/d2/moved\""
jeq . "$API_TMP/d2/moved"
API_CURL=(-H 'Accept: application/json')
expect 200 GET /api/v1/captures/first/dump
jeq . "$API_TMP/d2/moved"
API_CURL=()
[ -f "$API_TMP/d2/moved.pcap" ] || api_fail "dump change did not create the new file"

expect 200 PUT /api/v1/captures/first/networkmode 'true'
expect 200 GET /api/v1/captures/first/networkmode
jeq . true
expect 409 GET /api/v1/captures/first/dump # no local file in network mode
expect 200 PUT /api/v1/captures/first/networkmode 'false'

expect 200 GET /api/v1/captures/first/iface
jeq . "$NH_CAP_IF"

# PATCH several at once
expect 200 PATCH /api/v1/captures/first '{"capture":"bidirectional","snaplen":96,"filter":"udp"}'
jeq '.capture' bidirectional
jeq '.snaplen' 96
jeq '.filter' udp

# traffic, then counters and the download
api_send 5555 20
wait_stat first written 20
expect 200 GET /api/v1/captures/first/stats
jeq '.matched' 20
in_cap curl "${API_AUTH[@]}" -sf -o "$API_TMP/dl.pcap" "$API_URL/api/v1/captures/first/dump" ||
	api_fail "download failed"
n=$(pcap_count "$API_TMP/dl.pcap")
[ "$n" = 20 ] || api_fail "downloaded file has $n records, want 20"

# a second capture on a second veth pair inside the namespace
in_cap ip link add "${API_ID}x" type veth peer name "${API_ID}y"
in_cap ip link set "${API_ID}x" up
in_cap ip link set "${API_ID}y" up
expect 201 POST /api/v1/captures "{\"name\":\"second\",\"iface\":\"${API_ID}x\",\"capture\":\"ingress\",\"filter\":\"tcp\",\"snaplen\":64,\"dump\":\"$API_TMP/second\"}"
jeq '.name' second
jeq '.snaplen' 64
expect 409 POST /api/v1/captures "{\"name\":\"second\",\"iface\":\"${API_ID}y\"}"
expect 409 POST /api/v1/captures "{\"name\":\"third\",\"iface\":\"${API_ID}x\"}"
expect 409 POST /api/v1/captures "{\"name\":\"third\",\"iface\":\"$NH_CAP_IF\"}"
expect 200 GET /api/v1/captures
jeq 'length' 2

# move it to the other end; the first capture can't take that one then
expect 200 PUT /api/v1/captures/second/iface "\"${API_ID}y\""
jeq . "${API_ID}y"
expect 200 GET /api/v1/captures/second
jeq '.iface' "${API_ID}y"
jeq '.filter' tcp
jeq '.snaplen' 64
expect 409 PUT /api/v1/captures/first/iface "\"${API_ID}y\""
expect 200 GET /api/v1/captures/first/iface
jeq . "$NH_CAP_IF"

expect 204 DELETE /api/v1/captures/second
expect 404 GET /api/v1/captures/second
expect 404 DELETE /api/v1/captures/second
expect 404 GET /api/v1/captures/second/stats
expect 404 PUT /api/v1/captures/second/snaplen '80'
expect 200 GET /api/v1/captures
jeq 'length' 1
[ -f "$API_TMP/second.pcap" ] || api_fail "deleted capture left no file"

expect 404 GET /api/v1/nothing
expect 404 GET /api/v1/captures/first/nothing
expect 405 DELETE /api/v1/captures
expect 405 POST /api/v1/captures/first/stats
expect 409 GET /api/v1/captures/first/packets

api_alive
api_stop
echo PASS
