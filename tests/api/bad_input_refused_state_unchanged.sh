#!/bin/bash
# Every kind of bad input gets 400 with a message, changes nothing (the
# capture's settings are byte-for-byte the same afterwards) and leaves the
# service running: unknown fields, wrong types, snaplen out of range, unknown
# modes, filters libpcap refuses (its own message comes back), dump folders
# that are missing / not writable / outside --dump-root / escaping with `..`
# or a symlink, bodies over the limit, malformed JSON, bad query values.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" bi

mkdir -p "$API_TMP/ro" "$API_TMP/sub" "$API_TMP/outside"
ln -s /tmp "$API_TMP/escape"
# a read-only folder even for root: a read-only tmpfs
mount -t tmpfs -o ro,size=64k tmpfs "$API_TMP/ro"
nh_cleanup_add "umount '$API_TMP/ro'"
api_start --dump-root "$API_TMP" --filter "udp port 7" --snaplen 200

settings() { req GET /api/v1/captures/first; jq -c 'del(.stats)' <<<"$BODY"; }
before=$(settings)
[ -n "$before" ] || api_fail "no settings"

# refuse METHOD PATH BODY MESSAGE-PART: 400, message, settings unchanged
refuse()
{
	local msg=$4
	expect 400 "$1" "$2" "$3"
	jget .error | grep -qF -- "$msg" || api_fail "$1 $2 $3: message '$(jget .error)' lacks '$msg'"
	[ "$(settings)" = "$before" ] || api_fail "$1 $2 $3 changed the settings: $(settings)"
}

P=/api/v1/captures/first
refuse PATCH $P '{"bogus":1}' "unknown field 'bogus'"
refuse PATCH $P '{"snaplen":0}' "1..262144"
refuse PATCH $P '{"snaplen":262145}' "1..262144"
refuse PATCH $P '{"snaplen":"80"}' "integer"
refuse PATCH $P '{"snaplen":1.5}' "integer"
refuse PATCH $P '{"capture":"sideways"}' "unknown capture mode"
refuse PATCH $P '{"capture":true}' "string"
refuse PATCH $P '{"filter":"tcp port"}' "syntax error"
refuse PATCH $P '{"filter":"udp port 99999"}' "port"
refuse PATCH $P '{"filter":"nonsense_word"}' "refused"
refuse PATCH $P '{"filter":17}' "string"
refuse PATCH $P '{"networkmode":"yes"}' "true or false"
refuse PATCH $P '{"name":"other"}' "can't be changed"
refuse PATCH $P '{"iface":"nosuch0"}' "unknown interface"
# all or nothing: good fields next to a bad one change nothing
refuse PATCH $P '{"snaplen":64,"capture":"egress","filter":"tcp port"}' "syntax error"
refuse PATCH $P '{"snaplen":64,"bogus":true}' "unknown field"
refuse PATCH $P "{\"snaplen\":64,\"dump\":\"$API_TMP/missing/x\"}" "No such file"
# dump folders
refuse PATCH $P "{\"dump\":\"$API_TMP/ro/x\"}" "not writable"
refuse PATCH $P "{\"dump\":\"$API_TMP/sub/../x\"}" "'..'"
refuse PATCH $P '{"dump":"../x"}' "'..'"
refuse PATCH $P "{\"dump\":\"$API_TMP/outside/../../x\"}" "'..'"
refuse PATCH $P '{"dump":"/tmp/x"}' "outside the dump root"
refuse PATCH $P '{"dump":"escape/x"}' "outside the dump root"
refuse PATCH $P "{\"dump\":\"$API_TMP/sub/\"}" "file prefix"
refuse PATCH $P "{\"dump\":\"$API_TMP/sub\"}" "is a folder"
refuse PATCH $P '{"dump":"/proc/x"}' "outside the dump root"
refuse PATCH $P '{"dump":""}' "empty"
# the body itself
refuse PATCH $P '{"snaplen":' "malformed JSON"
refuse PATCH $P '{"snaplen":80} trailing' "malformed JSON"
refuse PATCH $P '' "malformed JSON"
refuse PATCH $P '[1,2]' "JSON object"
refuse PATCH $P '{"snaplen":80,"snaplen":81}' "duplicate"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
refuse PATCH $P "{\"filter\":\"$big\"}" "larger than"
# PUT of one field
refuse PUT $P/snaplen '"abc"' "integer"
refuse PUT $P/snaplen '0' "1..262144"
refuse PUT $P/capture '"x"' "unknown capture mode"
refuse PUT $P/filter '"((("' "syntax error"
refuse PUT $P/networkmode '1' "true or false"
refuse PUT $P/iface '"nosuch0"' "unknown interface"
refuse PUT $P/dump '"/nonexistent/x"' "'/nonexistent/x' is outside the dump root"
refuse PUT $P/dump '{"x":1}' "string"
# POST
refuse POST /api/v1/captures '{"iface":"lo"}' "'name' is required"
refuse POST /api/v1/captures '{"name":"x"}' "'iface' is required"
refuse POST /api/v1/captures '{"name":"../x","iface":"lo"}' "invalid name"
refuse POST /api/v1/captures '{"name":"x","iface":"nosuch0"}' "unknown interface"
refuse POST /api/v1/captures '{"name":"x","iface":"lo","filter":"tcp port"}' "syntax error"
refuse POST /api/v1/captures '{"name":"x","iface":"lo","what":1}' "unknown field"
refuse POST /api/v1/captures '{"name":"x","iface":"lo","snaplen":0}' "1..262144"
refuse POST /api/v1/captures '{"name":"x","iface":"lo","dump":"/tmp/x"}' "outside the dump root"
refuse POST /api/v1/captures 'nope' "malformed JSON"
expect 200 GET /api/v1/captures
jeq length 1
# query values of the stream
expect 200 PUT $P/networkmode true
before=$(settings)
refuse GET "$P/packets?count=abc" "" "count"
refuse GET "$P/packets?count=0" "" "count"
refuse GET "$P/packets?count=-1" "" "count"
refuse GET "$P/packets?seconds=1x" "" "seconds"

# the good ones still work after all that; a relative dump is inside the root
expect 200 PATCH $P '{"snaplen":64,"dump":"sub/cap","networkmode":false}'
jeq .snaplen 64
jeq .dump "$API_TMP/sub/cap"
api_alive
api_stop
echo PASS
