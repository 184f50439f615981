#!/bin/bash
# `fleet extract` over two sensors returns exactly the union of what each
# sensor's own `extract` returns for the same window and expression (every
# record's time and bytes), merged in time order; the packets come over
# each sensor's REST extract stream with a one-time token. Sensor 1 has a
# second capture without rotation (no sealed file, no catalog record: its
# open file is asked for because its status says it runs), fetched after
# the first one. With one sensor
# hung (SIGSTOP: no answer in time) and then stopped (nobody listening), the
# answer is the other's alone, the missing sensor is named on standard
# error, the answer says it is partial and the exit status is 3.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
fl_init "$1" d
fl_nats_up
fl_sensor_up 1
fl_sensor_up 2
ns=${FL_SNS[1]}
ip -n "$ns" link add flx0 type veth peer name flx1
ip -n "$ns" link set flx0 up
ip -n "$ns" link set flx1 up
ip netns exec "$ns" curl -sf -o /dev/null -H "Authorization: Bearer $(cat /run/capture-appliance/api.token)" \
	-H 'Content-Type: application/json' -X POST \
	-d "{\"name\":\"second\",\"iface\":\"flx0\",\"filter\":\"udp\",\"dump\":\"$FL_TMP/s1/second\"}" \
	http://10.77.1.2:9000/api/v1/captures || fl_fail "second capture on s1"
sleep 6 # its status record (heartbeat every 5 s)
from=$(date +%s.%N)
fl_send 1 --count 200 --rate 200 --tag 1 &
s1=$!
fl_send 1 --count 50 --rate 200 --tag 3 --dport 7778 &
s3=$!
fl_send 2 --count 200 --rate 200 --tag 2
ip netns exec "$ns" python3 "$FL_SRC/tests/integration/send.py" --mode raw --iface flx1 \
	--src-mac 02:1c:00:00:00:02 --dst-mac 02:1c:00:00:00:01 --src-ip 10.199.0.2 \
	--dst-ip 10.199.0.1 --count 70 --rate 200 --tag 4 >/dev/null || fl_fail "send.py (second)"
wait "$s1" "$s3"
to=$(date +%s.%N)
sleep 3 # sealed
fl_wait_catalog 1
fl_wait_catalog 2
expr='udp port 7777'
second=()
for n in 1 2; do
	[ "$n" = 1 ] && second=(-r "$FL_TMP/s1/second") || second=()
	"$FL_BIN" extract --from "$from" --to "$to" -r "${FL_SDUMP[$n]}" "${second[@]}" \
		-w "$FL_TMP/own$n.pcap" "$expr" || fl_fail "s$n: own extract"
done
rc=0
fl_client extract --from "$from" --to "$to" -w "$FL_TMP/fleet.pcap" "$expr" \
	2>"$FL_TMP/fleet.err" || rc=$?
cat "$FL_TMP/fleet.err"
[ "$rc" -eq 0 ] || fl_fail "fleet extract: exit status $rc"
python3 "$FL_DIR/pcapcmp.py" "$FL_TMP/fleet.pcap" "$FL_TMP/own1.pcap" "$FL_TMP/own2.pcap" ||
	fl_fail "fleet answer differs from the union of the sensors' own"
n=$(python3 -c "import sys; sys.path.insert(0, '$FL_SRC/tests/extract'); from pcaputil import read_capture; print(len(read_capture('$FL_TMP/fleet.pcap')[1]))")
[ "$n" -ge 350 ] || fl_fail "only $n records in the fleet answer (470 sent to port 7777)"
grep -q "s1/second: " "$FL_TMP/fleet.err" || fl_fail "s1's second capture not asked"
grep -q "bytes in" "$FL_TMP/fleet.err" || fl_fail "no progress on stderr"
# the stream needs a token: without one the sensor refuses
code=$(fl_hub curl -s -o /dev/null -w '%{http_code}' \
	"http://10.77.1.2:9000/api/v1/captures/${FL_SIF[1]}/extract?filter=udp")
[ "$code" = 401 ] || fl_fail "extract without a token: HTTP $code, expected 401"

# partial: s2 hung (no answer within the timeout), then stopped (nobody
# listens); each time named, said to be partial, exit 3, s1's answer whole
partial()
{
	local why=$1 rc=0
	fl_client extract --from "$from" --to "$to" --timeout 8 -w "$FL_TMP/partial.pcap" "$expr" \
		2>"$FL_TMP/partial.err" || rc=$?
	cat "$FL_TMP/partial.err"
	[ "$rc" -eq 3 ] || fl_fail "fleet extract with s2 $why: exit status $rc, expected 3"
	grep -q "sensor s2 (capture .*): no answer" "$FL_TMP/partial.err" || fl_fail "s2 not named"
	grep -q "PARTIAL" "$FL_TMP/partial.err" || fl_fail "the answer does not say it is partial"
	python3 "$FL_DIR/pcapcmp.py" "$FL_TMP/partial.pcap" "$FL_TMP/own1.pcap" ||
		fl_fail "partial answer differs from s1's own"
}
kill -STOP "${FL_SPID[2]}"
partial hung
kill -CONT "${FL_SPID[2]}"
fl_sensor_stop 2
partial stopped
fl_sensor_stop 1
echo PASS
