#!/bin/bash
# The lock protocol (capture/README.md): a filter compile that takes seconds
# and a pull client that stopped reading hold no lock that the control
# routes need. With both under way on the same capture, GET
# /api/v1/captures, GET of the capture, /healthz and DELETE each answer
# within 3 s (tens of ms usual); the compile then finds its capture gone (404) and changes
# nothing; the appliance stops cleanly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" lk

# The appliance's clang takes 6 s once $API_TMP/slow exists
api_slow_clang

api_start --mode ingress --filter "udp port 5555" --snaplen 1500
expect 200 PUT /api/v1/captures/first/networkmode 'true'

# A pull client that never reads: the server's sends block once the
# socket buffers are full.
in_cap env AUTH="${API_AUTH[1]}" python3 - <<'PY' &
import os, socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", 9000))
s.sendall(b"GET /api/v1/captures/first/packets HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n" +
          os.environ["AUTH"].encode() + b"\r\n\r\n")
time.sleep(60)
PY
PULL=$!
nh_cleanup_add "kill $PULL 2>/dev/null"
api_send 5555 20000 1400 20000 # 28 MB: far more than the socket buffers hold
wait_stat first written 20000 20

# A filter change whose compile is held.
touch "$API_TMP/slow"
in_cap curl "${API_AUTH[@]}" -s -o "$API_TMP/patch.body" -w '%{http_code}' -X PATCH \
	-H 'Content-Type: application/json' --data-binary '{"filter":"udp port 6666"}' \
	"$API_URL/api/v1/captures/first" >"$API_TMP/patch.code" &
PATCH=$!
api_wait_compiling "PATCH: $(cat "$API_TMP/patch.code" 2>/dev/null)"

timed 200 GET /healthz
timed 200 GET /api/v1/captures
jeq '.[0].name' first
timed 200 GET /api/v1/captures/first
jeq .filter "udp port 5555"
timed 204 DELETE /api/v1/captures/first
timed 404 GET /api/v1/captures/first
timed 200 GET /api/v1/captures
jeq 'length' 0

wait "$PATCH" || true
code=$(cat "$API_TMP/patch.code")
[ "$code" = 404 ] || api_fail "the held PATCH answered $code: $(cat "$API_TMP/patch.body")"
grep -q "deleted meanwhile" "$API_TMP/patch.body" ||
	api_fail "the held PATCH did not say why: $(cat "$API_TMP/patch.body")"
rm -f "$API_TMP/slow"
api_alive
kill "$PULL" 2>/dev/null || true
api_stop
grep -q "final first: seen" "$API_LOG" || api_fail "no final counters for the deleted capture"
echo PASS
