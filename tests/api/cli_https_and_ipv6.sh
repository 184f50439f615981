#!/bin/bash
# The CLI's HTTP client (libcurl):
# - against an HTTPS appliance (--tls-cert, a self-signed certificate made
#   here) it works with --cacert CERT (show, set, a pull streamed over TLS)
#   and fails without it, with exit status 1 and a message that says the
#   certificate can't be verified and names --cacert; a host name the
#   certificate doesn't name fails the same way; --insecure skips the check;
#   plain http:// to the TLS port fails with a clear message; a refused
#   command changed nothing;
# - an IPv6 server URL (http://[::1]:PORT) works and sends a bracketed Host
#   header (against a stand-in server: Debian's civetweb has no IPv6);
# - a server that accepts no connection fails within the connect timeout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" ch
O=$API_TMP/out
E=$API_TMP/err
ok() { api_cli "$@" >"$O" 2>"$E" || api_fail "'$*' failed: $(cat "$E")"; }
no()
{
	local want=$1 msg=$2 rc=0
	shift 2
	api_cli "$@" >"$O" 2>"$E" || rc=$?
	[ "$rc" = "$want" ] || api_fail "'$*': exit $rc, want $want ($(cat "$E"))"
	grep -qF -- "$msg" "$E" || api_fail "'$*': stderr '$(cat "$E")' lacks '$msg'"
}

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 \
	-keyout "$API_TMP/key.pem" -out "$API_TMP/cert.pem" 2>/dev/null
cat "$API_TMP/cert.pem" "$API_TMP/key.pem" >"$API_TMP/server.pem"
api_start --tls-cert "$API_TMP/server.pem"
S=https://127.0.0.1:9000

ok --server $S --cacert "$API_TMP/cert.pem" show first snaplen
[ "$(cat "$O")" = 262144 ] || api_fail "show over https: $(cat "$O")"
ok --server $S --cacert "$API_TMP/cert.pem" set first snaplen=99 filter="udp port 5555" \
	capture=ingress networkmode=true
BODY=$(cat "$O")
jeq .snaplen 99
# without the CA: refused, with a message that says what to do, nothing sent
no 1 "certificate can't be verified" --server $S set first snaplen=50
grep -qF -- "--cacert FILE" "$E" || api_fail "no hint at --cacert: $(cat "$E")"
# the certificate names 127.0.0.1, not localhost
no 1 "certificate can't be verified" --server https://localhost:9000 \
	--cacert "$API_TMP/cert.pem" set first snaplen=51
no 1 "cacert" --server $S --cacert "$API_TMP/nosuch.pem" show first
no 1 "no HTTP answer" --server http://127.0.0.1:9000 set first snaplen=52
expect 000 GET /healthz # plain curl gets nothing either
API_URL=$S
API_CURL=(--cacert "$API_TMP/cert.pem")
expect 200 GET /api/v1/captures/first/snaplen
jeq . 99 # no refused command changed it
# --insecure: no check at all
ok --server $S --insecure show first snaplen
[ "$(cat "$O")" = 99 ] || api_fail "--insecure: $(cat "$O")"

# a pull streamed over TLS, record by record
api_cli --server $S --cacert "$API_TMP/cert.pem" pull first -w "$API_TMP/tls.pcap" \
	--count 20 2>"$E" &
p=$!
sleep 1.5
api_send 5555 20
wait "$p" || api_fail "pull over https: $(cat "$E")"
seqs_ok "$API_TMP/tls.pcap" 5555 20
api_stop

# IPv6: Debian's civetweb is built without IPv6, so a stand-in server on
# [::1] answers and records the Host header the CLI sent (bracketed)
in_cap sysctl -qw net.ipv6.conf.lo.disable_ipv6=0
in_cap python3 -c '
import http.server, socket, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(sys.argv[1], "a").write(self.headers["Host"] + " " + self.path + "\n")
        b = b"77"
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
class S(http.server.HTTPServer): address_family = socket.AF_INET6
S(("::1", 9200), H).serve_forever()' "$API_TMP/hosts" &
v6=$!
nh_cleanup_add "kill $v6"
for ((i = 0; i < 50; i++)); do
	in_cap curl -s -o /dev/null 'http://[::1]:9200/x' && break
	sleep 0.1
done
ok --server 'http://[::1]:9200/' show first snaplen
[ "$(cat "$O")" = 77 ] || api_fail "show over IPv6: $(cat "$O")"
[ "$(tail -1 "$API_TMP/hosts")" = "[::1]:9200 /api/v1/captures/first/snaplen" ] ||
	api_fail "IPv6 request: $(tail -1 "$API_TMP/hosts")"
kill "$v6"
no 2 "bad server URL" --server 'http://[::1:9000' show first
no 1 "Connection refused" --server 'http://[::1]:9' show first

# connect timeout: a listener that never accepts (backlog full) is left
# after the timeout with a message, not waited for forever
in_cap python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 9100)); s.listen(0)
fill = []
for _ in range(8):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", 9100))
    except BlockingIOError: pass
    fill.append(c)
open("'"$API_TMP"'/ready", "w").close()
time.sleep(60)' &
blk=$!
nh_cleanup_add "kill $blk"
for ((i = 0; i < 50; i++)); do [ -e "$API_TMP/ready" ] && break; sleep 0.1; done
no 1 "timed out" --server http://127.0.0.1:9100 show first
kill "$blk"
echo PASS
