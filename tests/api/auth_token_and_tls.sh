#!/bin/bash
# Authentication and transport security:
# - with --no-auth (loopback only) every route answers without credentials;
# - by default every route needs the server's own token (a root-only file,
#   /run/capture-appliance/api.token); root's CLI reads it by itself;
# - with --token-file, every route (healthz too) needs "Authorization:
#   Bearer TOKEN": none, a wrong one, a prefix of it or a longer one get 401
#   and change nothing; the CLI and the Python client pass --token-file;
# - --tls-cert serves HTTPS with a self-signed certificate (curl verifies it
#   against the certificate; plain HTTP to that port gets no answer);
# - --no-auth beyond loopback is refused before anything is attached; a
#   token beyond loopback starts without a warning.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" au

# --no-auth: open
api_start --no-auth
expect 200 GET /healthz
expect 200 PUT /api/v1/captures/first/snaplen '100'
api_stop

# default: the server's own token
api_start
DEF=$(cat /run/capture-appliance/api.token)
[ "$(stat -c %a:%U /run/capture-appliance/api.token)" = 600:root ] ||
	api_fail "the default token file is not root's alone: $(stat -c %a:%U /run/capture-appliance/api.token)"
API_AUTH=()
expect 401 GET /api/v1/captures
API_CURL=(-H "Authorization: Bearer $DEF")
expect 200 PUT /api/v1/captures/first/snaplen '101'
API_CURL=()
api_cli show first snaplen >"$API_TMP/out" || api_fail "root's CLI without flags failed"
[ "$(cat "$API_TMP/out")" = 101 ] || api_fail "CLI show: $(cat "$API_TMP/out")"
api_stop

TOKEN=Tk-$RANDOM$RANDOM-secret
printf '%s\n' "$TOKEN" >"$API_TMP/token"
api_start --token-file "$API_TMP/token"
for path in /healthz /api/v1/openapi.json /api/v1/captures /api/v1/captures/first \
	/api/v1/captures/first/stats /api/v1/captures/first/packets; do
	expect 401 GET "$path"
	jeq .error "missing or wrong token"
done
for bad in "Bearer wrong" "Bearer ${TOKEN:0:10}" "Bearer ${TOKEN}x" "Basic $TOKEN" "$TOKEN"; do
	API_CURL=(-H "Authorization: $bad")
	expect 401 PUT /api/v1/captures/first/snaplen '77'
done
API_CURL=(-H "Authorization: Bearer $TOKEN")
expect 200 GET /api/v1/captures/first/snaplen
jeq . 262144 # the refused PUTs changed nothing
expect 200 PUT /api/v1/captures/first/snaplen '77'
expect 200 GET /api/v1/captures/first
jeq .snaplen 77

# the CLI: refused without the token (non-zero, the server's message), fine with it
if api_cli show first >"$API_TMP/out" 2>"$API_TMP/err"; then
	api_fail "CLI without token succeeded"
fi
grep -q "missing or wrong token" "$API_TMP/err" || api_fail "CLI error: $(cat "$API_TMP/err")"
api_cli --token-file "$API_TMP/token" show first snaplen >"$API_TMP/out" ||
	api_fail "CLI with token failed"
[ "$(cat "$API_TMP/out")" = 77 ] || api_fail "CLI show: $(cat "$API_TMP/out")"
api_cli set first snaplen=66 --token-file "$API_TMP/token" >/dev/null || api_fail "CLI set"
expect 200 GET /api/v1/captures/first/snaplen
jeq . 66
api_stop
grep -q WARNING "$API_LOG" && api_fail "warned on loopback"

# HTTPS with a self-signed certificate (and the token)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 \
	-keyout "$API_TMP/key.pem" -out "$API_TMP/cert.pem" 2>/dev/null
cat "$API_TMP/cert.pem" "$API_TMP/key.pem" >"$API_TMP/server.pem"
api_start --token-file "$API_TMP/token" --tls-cert "$API_TMP/server.pem"
API_URL=https://127.0.0.1:9000
API_CURL=(--cacert "$API_TMP/cert.pem" -H "Authorization: Bearer $TOKEN")
expect 200 GET /healthz
expect 200 PATCH /api/v1/captures/first '{"snaplen":55,"filter":"udp port 5555","networkmode":true}'
jeq .snaplen 55
API_CURL=(--cacert "$API_TMP/cert.pem")
expect 401 GET /api/v1/captures
# not without verification of the certificate, not in plain HTTP
if in_cap curl -s -m 5 -o /dev/null -H "Authorization: Bearer $TOKEN" https://127.0.0.1:9000/healthz; then
	api_fail "curl accepted an unknown self-signed certificate"
fi
code=$(in_cap curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:9000/healthz || true)
[ "$code" = 000 ] || api_fail "plain HTTP on the TLS port answered $code"
# a pcap stream over TLS, by curl and by the Python client
in_cap curl -sf -N --cacert "$API_TMP/cert.pem" -H "Authorization: Bearer $TOKEN" \
	-o "$API_TMP/tls.pcap" "https://127.0.0.1:9000/api/v1/captures/first/packets?count=10" &
pull=$!
in_cap python3 "$API_SRC/api/client/client.py" 127.0.0.1 "$API_TMP/py.pcap" --tls --insecure \
	--token-file "$API_TMP/token" --count 10 2>"$API_TMP/py.err" &
py=$!
API_CURL=(--cacert "$API_TMP/cert.pem" -H "Authorization: Bearer $TOKEN")
wait_pulls 2
api_send 5555 10
wait "$pull" || api_fail "curl pull over TLS failed"
wait "$py" || api_fail "python pull over TLS failed: $(cat "$API_TMP/py.err")"
[ "$(pcap_count "$API_TMP/tls.pcap")" = 10 ] || api_fail "TLS pull: $(pcap_count "$API_TMP/tls.pcap") records"
[ "$(pcap_count "$API_TMP/py.pcap")" = 10 ] || api_fail "python TLS pull: $(pcap_count "$API_TMP/py.pcap") records"
api_stop
API_URL=http://127.0.0.1:9000

# beyond loopback: refused without a token, no warning with one
if in_cap "$API_BIN" start --iface "$NH_CAP_IF" --listen 0.0.0.0:9000 --no-auth \
	--dump "$API_TMP/x" >"$API_TMP/noauth.log" 2>&1; then
	api_fail "--no-auth on 0.0.0.0 was accepted"
fi
grep -q "no-auth is refused on 0.0.0.0:9000" "$API_TMP/noauth.log" ||
	api_fail "no reason for refusing --no-auth: $(cat "$API_TMP/noauth.log")"
in_cap ip link show dev "$NH_CAP_IF" | grep -q xdp && api_fail "a refused start attached XDP"
api_start --listen 0.0.0.0:9000 --token-file "$API_TMP/token"
grep -q WARNING "$API_LOG" && api_fail "warned although a token is required"
api_stop
echo PASS
