#!/bin/bash
# Safe by default: started with no auth option, the appliance's control
# plane belongs to root.
# - Another local user (nobody) can neither read nor change a capture nor
#   pull packets: every route answers 401 and nothing changes; the token
#   file is unreadable to it, so its CLI is refused too.
# - root's CLI works with no flags (it reads the server's token itself).
# - A web page can't drive it: a cross-site Origin gets 403, a Host header
#   that is no loopback name (DNS rebinding) gets 421, a body not declared
#   application/json (a "simple" cross-site POST) gets 415; none of them
#   changes anything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" rt
chmod 755 "$API_TMP" # nobody may reach the binary's output folder, not the token

api_start --mode ingress --filter "udp port 5555"
expect 200 PUT /api/v1/captures/first/networkmode 'true'
as_nobody() { in_cap setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

as_nobody cat /run/capture-appliance/api.token 2>/dev/null &&
	api_fail "nobody can read the token file"
for path in /healthz /api/v1/captures /api/v1/captures/first /api/v1/captures/first/stats \
	/api/v1/captures/first/filter "/api/v1/captures/first/packets?count=1" \
	/api/v1/captures/first/dump; do
	code=$(as_nobody curl -s -m 5 -o /dev/null -w '%{http_code}' "$API_URL$path" || true)
	[ "$code" = 401 ] || api_fail "nobody: GET $path answered $code"
done
code=$(as_nobody curl -s -m 5 -o /dev/null -w '%{http_code}' -X PUT \
	-H 'Content-Type: application/json' --data '"tcp"' "$API_URL/api/v1/captures/first/filter" || true)
[ "$code" = 401 ] || api_fail "nobody: PUT filter answered $code"
code=$(as_nobody curl -s -m 5 -o /dev/null -w '%{http_code}' -X DELETE "$API_URL/api/v1/captures/first" || true)
[ "$code" = 401 ] || api_fail "nobody: DELETE answered $code"
code=$(as_nobody curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data "{\"name\":\"spy\",\"iface\":\"$NH_CAP_IF\",\"networkmode\":true}" "$API_URL/api/v1/captures" || true)
[ "$code" = 401 ] || api_fail "nobody: POST answered $code"
if as_nobody "$API_BIN" show first >"$API_TMP/out" 2>"$API_TMP/err"; then
	api_fail "nobody's CLI could read the capture"
fi
grep -q "missing or wrong token" "$API_TMP/err" || api_fail "nobody's CLI: $(cat "$API_TMP/err")"

# root: the CLI with no flags
api_cli show first filter >"$API_TMP/out" || api_fail "root's CLI without flags failed"
[ "$(cat "$API_TMP/out")" = "udp port 5555" ] || api_fail "root's CLI: $(cat "$API_TMP/out")"
expect 200 GET /api/v1/captures
jeq 'length' 1

# web pages
API_CURL=(-H 'Origin: http://evil.example')
expect 403 PUT /api/v1/captures/first/filter '"tcp"'
expect 403 GET /api/v1/captures
API_CURL=(-H 'Host: evil.example:9000')
expect 421 GET /api/v1/captures
expect 421 PUT /api/v1/captures/first/filter '"tcp"'
API_CURL=(-H 'Origin: http://127.0.0.1:9000')
expect 200 GET /api/v1/captures
API_CURL=(-H 'Content-Type: text/plain')
expect 415 PUT /api/v1/captures/first/filter '"tcp"'
API_CURL=()
expect 200 GET /api/v1/captures/first
jeq .filter "udp port 5555"
jeq .networkmode true
api_alive
api_stop
echo PASS
