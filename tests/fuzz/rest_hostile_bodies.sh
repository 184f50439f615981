#!/bin/bash
# Hostile request bodies over HTTP get 400 and a message, change nothing and
# leave the process alive: 800 to 60000 nested brackets on POST, PATCH and
# PUT (787 levels used to overflow a civetweb worker's stack), strings with
# \u0000 (stored cut short: "udp", or "" = capture everything), empty
# filters, leading zeros, NaN, trailing garbage, invalid UTF-8, and dump
# names or interface names with CR, LF or ESC (which reached the log).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../api/lib.sh"
api_init "$1" hb
api_start --dump-root "$API_TMP" --filter "udp port 7" --snaplen 200

settings() { req GET /api/v1/captures/first; jq -c 'del(.stats)' <<<"$BODY"; }
before=$(settings)
[ -n "$before" ] || api_fail "no settings"

# refuse METHOD PATH BODY MESSAGE-PART
refuse()
{
	req "$1" "$2" "$3"
	[ "$CODE" = 400 ] || api_fail "$1 $2 ${3:0:60}: want 400, got $CODE: ${BODY:0:200}"
	jget .error | grep -qF -- "$4" ||
		api_fail "$1 $2 ${3:0:60}: message '$(jget .error)' lacks '$4'"
	kill -0 "$API_PID" 2>/dev/null || api_fail "$1 $2 ${3:0:60}: the appliance died"
	[ "$(settings)" = "$before" ] || api_fail "$1 $2 ${3:0:60} changed the settings"
}

nest() { printf '%*s' "$1" '' | tr ' ' '['; }
P=/api/v1/captures/first
for n in 800 1000 60000; do
	refuse POST /api/v1/captures "$(nest $n)" "JSON nested too deeply"
	refuse PATCH $P "$(nest $n)" "JSON nested too deeply"
	refuse PUT $P/filter "$(nest $n)" "JSON nested too deeply"
done
refuse PATCH $P "{\"filter\":$(nest 40)" "JSON nested too deeply"
refuse PATCH $P '{"filter":"udp\u0000 and tcp"}' "must not contain NUL"
refuse PATCH $P '{"filter":"\u0000udp"}' "must not contain NUL"
refuse PUT $P/filter '"\u0000udp"' "must not contain NUL"
refuse PATCH $P '{"filter":""}' "filter must not be empty; use 'all' or 'none'"
refuse PUT $P/filter '" "' "filter must not be empty"
refuse PATCH $P '{"snaplen":064}' "leading zeros"
refuse PUT $P/snaplen '064' "leading zeros"
refuse PATCH $P '{"snaplen":NaN}' "malformed JSON"
refuse PATCH $P '{"snaplen":80} x' "more after the end"
refuse PATCH $P $'{"dump":"a\xff"}' "invalid UTF-8"
refuse PATCH $P '{"dump":"a\rb"}' "control characters"
refuse PATCH $P '{"dump":"a\nINFO forged"}' "control characters"
refuse PATCH $P '{"dump":"a\u001b[2Jb"}' "control characters"
refuse PUT $P/dump '"a\u001b]0;x\u0007"' "control characters"
refuse PATCH $P '{"filter":"udp\nport 7"}' "control characters"
refuse PATCH $P '{"iface":"lo\u001b"}' "control characters"
refuse POST /api/v1/captures '{"name":"x","iface":"lo","dump":"a\rb"}' "control characters"
refuse POST /api/v1/captures '{"name":"x","iface":"lo","filter":"\u0000"}' "must not contain NUL"
expect 200 GET /healthz
# nothing with a control character reached the log
if grep -qaP '[\x00-\x08\x0b-\x1f\x7f]' "$API_LOG"; then
	api_fail "a control character reached the log"
fi
api_stop
echo "PASS: hostile bodies refused with 400, settings unchanged, process alive"
