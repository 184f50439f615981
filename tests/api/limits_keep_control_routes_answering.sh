#!/bin/bash
# Limits keep the control routes answering under load:
# - 40 pull clients at once: 32 (CAP_PULLS_DEFAULT) stream, the others get
#   503 at once;
# - a filter compile held open (6 s) takes one compile slot; a second change
#   of the same capture waits for the slot, not for a lock;
# - 40 half-sent requests are held open;
# with all of that under way, /healthz, GET /api/v1/captures and GET of the
# capture each answer within 3 s (tens of ms usual); the half-sent connections are dropped
# after the request timeout (10 s), not kept for a minute.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" li

api_slow_clang

api_start --mode ingress --filter "udp port 5555"
expect 200 PUT /api/v1/captures/first/networkmode 'true'

# 40 pulls, 40 half-sent requests, from one python process
in_cap env AUTH="${API_AUTH[1]}" OUT="$API_TMP" python3 - <<'PY' &
import os, socket, time
auth = os.environ["AUTH"].encode()
pulls, half = [], []
for i in range(40):
    s = socket.create_connection(("127.0.0.1", 9000))
    s.sendall(b"GET /api/v1/captures/first/packets HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"
              + auth + b"\r\n\r\n")
    pulls.append(s)
for i in range(40):
    s = socket.create_connection(("127.0.0.1", 9000))
    s.sendall(b"GET /hea")
    half.append(s)
# every answer's first bytes, within one deadline (not a fixed wait: a
# loaded machine may take seconds to answer 40 clients)
deadline = time.monotonic() + 15
codes = {}
for s in pulls:
    s.settimeout(max(0.2, deadline - time.monotonic()))
    try:
        head = s.recv(200).split(b" ")[1].decode()
    except OSError:
        head = "none"
    codes[head] = codes.get(head, 0) + 1
with open(os.environ["OUT"] + "/pull.codes", "w") as f:
    f.write(" ".join("%s:%d" % kv for kv in sorted(codes.items())) + "\n")
t0 = time.monotonic()
closed = 0
while time.monotonic() - t0 < 20 and closed < len(half):
    closed = 0
    for s in half:
        s.settimeout(0.01)
        try:
            if s.recv(100) == b"":
                closed += 1
        except socket.timeout:
            pass
        except OSError:
            closed += 1
    time.sleep(0.2)
with open(os.environ["OUT"] + "/half.closed", "w") as f:
    f.write("%d %.1f\n" % (closed, time.monotonic() - t0))
time.sleep(30)
PY
LOAD=$!
nh_cleanup_add "kill $LOAD 2>/dev/null"
for ((i = 0; i < 300; i++)); do
	[ -e "$API_TMP/pull.codes" ] && break
	sleep 0.1
done
[ -e "$API_TMP/pull.codes" ] || api_fail "the 40 pull clients got no answers in 30 s"
codes=$(cat "$API_TMP/pull.codes")
api_log "pull answers: $codes"
[ "$codes" = "200:32 503:8" ] || api_fail "want 32 streams and 8 refusals (503), got $codes"

touch "$API_TMP/slow"
for f in "udp port 6666" "udp port 7777"; do
	in_cap curl "${API_AUTH[@]}" -s -o /dev/null -X PUT -H 'Content-Type: application/json' \
		--data "\"$f\"" "$API_URL/api/v1/captures/first/filter" &
done
api_wait_compiling

timed 200 GET /healthz
timed 200 GET /api/v1/captures
timed 200 GET /api/v1/captures/first
for ((i = 0; i < 400; i++)); do
	[ -e "$API_TMP/half.closed" ] && break
	sleep 0.1
done
[ -e "$API_TMP/half.closed" ] || api_fail "the half-sent connections were not counted in 40 s"
read -r closed secs <"$API_TMP/half.closed"
api_log "half-sent connections closed by the server: $closed of 40 within $secs s"
[ "$closed" = 40 ] || api_fail "only $closed of 40 half-sent connections were closed in 20 s"
rm -f "$API_TMP/slow"
wait_for_filter()
{
	for ((i = 0; i < 200; i++)); do
		req GET /api/v1/captures/first/filter
		[ "$BODY" = "\"$1\"" ] && return 0
		sleep 0.1
	done
	return 1
}
# both changes went through, one after the other
wait_for_filter "udp port 6666" || wait_for_filter "udp port 7777" ||
	api_fail "the filter changes did not land: $BODY"
kill "$LOAD" 2>/dev/null || true
api_alive
api_stop
echo PASS
