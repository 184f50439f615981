#!/bin/bash
# The status page at / in a real browser (headless Chromium, driven over
# the DevTools protocol by ui_browser.py):
# - GET / answers without a token (a static page, no data), with a CSP that
#   keeps its requests on this server and forbids framing; the API next to
#   it still needs the token; a foreign Host gets 421 for the page too;
# - the page asks for the token, refuses a wrong one, shows the captures
#   with the right one (kept in sessionStorage), changes a filter through
#   its form (same-origin PUT: its Origin equals the Host, so the guard
#   lets it through) and REST then reports the new filter; a refused filter
#   shows libpcap's message on the page and changes nothing;
# - it takes a screenshot with traffic flowing (a PNG, 1280x640); with
#   CA_SCREENSHOT=PATH in the environment it is kept there (docs/status-page.png
#   was made so).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" ui
command -v chromium >/dev/null || api_fail "no chromium (scripts/install-deps.sh)"
api_start --filter "udp port 5555" --mode ingress
TOKEN=$(cat /run/capture-appliance/api.token)

# the page itself: no token needed, headers that fence it in
code=$(in_cap curl -s -o "$API_TMP/page.html" -D "$API_TMP/page.hdr" -w '%{http_code}' \
	http://127.0.0.1:9000/)
[ "$code" = 200 ] || api_fail "GET / without a token: $code"
grep -qi '^content-type: text/html' "$API_TMP/page.hdr" || api_fail "GET /: $(cat "$API_TMP/page.hdr")"
grep -qi "^content-security-policy: default-src 'none';.*connect-src 'self'.*frame-ancestors 'none'" \
	"$API_TMP/page.hdr" || api_fail "GET /: no CSP: $(cat "$API_TMP/page.hdr")"
grep -q '<title>capture-appliance</title>' "$API_TMP/page.html" || api_fail "GET /: not the page"
API_AUTH=()
expect 401 GET /api/v1/captures
API_CURL=(-H "Host: evil.example:9000")
expect 421 GET /
API_CURL=(-H "Origin: http://evil.example")
expect 403 GET /
API_CURL=()
expect 401 POST / '{}' # only GET of the page goes without the token

# traffic for the chart, the length of the browser's visit
api_send 5555 20000 200 400 2>/dev/null & # ends with the namespaces
snd=$!
nh_cleanup_add "kill $snd"
in_cap env HOME="$API_TMP" timeout 120 python3 "$API_DIR/ui_browser.py" "$(command -v chromium)" \
	http://127.0.0.1:9000/ "$TOKEN" first "udp dst port 5555" "tcp port" \
	"$API_TMP/profile" "$API_TMP/status-page.png" >"$API_TMP/ui.out" 2>&1 ||
	api_fail "browser: $(cat "$API_TMP/ui.out"; tail -5 "$API_TMP/profile.log" 2>/dev/null)"
cat "$API_TMP/ui.out"
grep -q '^PASS$' "$API_TMP/ui.out" || api_fail "browser: $(cat "$API_TMP/ui.out")"
API_AUTH=(-H "Authorization: Bearer $TOKEN")
expect 200 GET /api/v1/captures/first/filter
jeq . "udp dst port 5555"
kill "$snd" 2>/dev/null || true
size=$(python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read(24)
print("%dx%d" % struct.unpack(">II", b[16:24]) if b[:8] == b"\x89PNG\r\n\x1a\n" else "not a PNG")' \
	"$API_TMP/status-page.png")
[ "$size" = 1280x640 ] || api_fail "screenshot: $size"
[ -z "${CA_SCREENSHOT:-}" ] || cp "$API_TMP/status-page.png" "$CA_SCREENSHOT"
api_alive
api_stop
echo PASS
