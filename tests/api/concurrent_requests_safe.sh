#!/bin/bash
# Many clients at once: four writers PATCH/PUT/GET the same capture, one
# sends refused requests, one lists while another adds and deletes a second
# capture, and a pull client streams meanwhile. Every answer is the
# expected one (200/201/204, 400 for the bad ones), the final settings are
# one of the values written (never a mix: snaplen and filter were always
# written together), and the service is still up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" cc
api_start --mode ingress --filter "udp port 5555"
in_cap ip link add "${API_ID}x" type veth peer name "${API_ID}y"
in_cap ip link set "${API_ID}x" up
in_cap ip link set "${API_ID}y" up
expect 200 PUT /api/v1/captures/first/networkmode 'true'
U=$API_URL/api/v1/captures
: >"$API_TMP/errors"

# call WANT METHOD URL [BODY]: logs a mismatch to the errors file
call()
{
	local want=$1 m=$2 url=$3 code t0=$EPOCHREALTIME
	if [ $# -ge 4 ]; then
		code=$(in_cap curl "${API_AUTH[@]}" -sS -m 120 -o /dev/null -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' --data-binary "$4" "$url" 2>&1 || true)
	else
		code=$(in_cap curl "${API_AUTH[@]}" -sS -m 120 -o /dev/null -w '%{http_code}' -X "$m" "$url" 2>&1 || true)
	fi
	[ "$code" = "$want" ] ||
		echo "$m $url ${4:-}: want $want got $code after $(bc <<<"$EPOCHREALTIME - $t0") s" >>"$API_TMP/errors"
}

writer()
{
	local k=$1 j
	for ((j = 0; j < 6; j++)); do
		call 200 PATCH "$U/first" "{\"snaplen\":$((100 + k)),\"filter\":\"udp port $((5000 + k))\"}"
		call 200 GET "$U/first"
		call 200 PUT "$U/first/capture" '"ingress"'
		call 200 GET "$U/first/stats"
	done
}

bad()
{
	local j
	for ((j = 0; j < 25; j++)); do
		call 400 PATCH "$U/first" '{"snaplen":0,"filter":"udp"}'
		call 400 PUT "$U/first/filter" '"tcp port"'
	done
}

churn()
{
	local j
	for ((j = 0; j < 3; j++)); do
		call 201 POST "$U" "{\"name\":\"tmp\",\"iface\":\"${API_ID}x\",\"filter\":\"tcp\"}"
		call 200 GET "$U/tmp"
		call 204 DELETE "$U/tmp"
	done
}

lister()
{
	local j
	for ((j = 0; j < 40; j++)); do
		call 200 GET "$U"
	done
}

in_cap curl "${API_AUTH[@]}" -sf -N -o "$API_TMP/pull.pcap" "$U/first/packets?seconds=20" &
pull=$!
pids=()
for k in 1 2 3 4; do writer $k & pids+=($!); done
bad & pids+=($!)
churn & pids+=($!)
lister & pids+=($!)
api_send 5001 2000 100 500 & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
wait "$pull" || api_fail "the pull failed during the storm"
python3 "$API_DIR/pcap_seqs.py" "$API_TMP/pull.pcap" >/dev/null || api_fail "pull: bad pcap"

[ -s "$API_TMP/errors" ] && api_fail "unexpected answers: $(head -5 "$API_TMP/errors")"
expect 200 GET /api/v1/captures/first
snap=$(jget .snaplen)
filter=$(jget .filter)
((snap >= 101 && snap <= 104)) || api_fail "final snaplen $snap"
[ "$filter" = "udp port $((4900 + snap))" ] || api_fail "snaplen $snap with filter '$filter': a mix"
expect 200 GET /api/v1/captures
jeq length 1
api_alive
api_stop
echo PASS
