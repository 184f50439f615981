#!/bin/bash
# The catalog stream's leader node is killed (SIGKILL) while two sensors
# capture and seal files: the other two nodes elect a new leader, the
# sensors reconnect, and the catalog still answers with exactly one record
# per sealed file of each sensor (none lost, none twice); `fleet ls` still
# lists both sensors.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
fl_init "$1" b
fl_nats_up
fl_sensor_up 1
fl_sensor_up 2
fl_send 1 --count 600 --rate 100 --tag 1 &
p1=$!
fl_send 2 --count 600 --rate 100 --tag 2 &
p2=$!
sleep 2.5
# the node that leads CA_CATALOG now (asked again for 10 s: the stream may
# be between leaders for a moment)
for ((i = 0; i < 50; i++)); do
	leader=$({ fl_hub curl -sf 'http://127.0.0.1:8222/jsz?streams=true' | python3 -c '
import json, sys
for a in json.load(sys.stdin).get("account_details", []):
    for s in a.get("stream_detail", []):
        if s["name"] == "CA_CATALOG":
            print(s.get("cluster", {}).get("leader", "")[1:])'; } 2>/dev/null || true)
	[[ $leader =~ ^[123]$ ]] && break
	sleep 0.2
done
[[ $leader =~ ^[123]$ ]] || fl_fail "no leader of CA_CATALOG: '$leader'"
fl_log "CA_CATALOG leader: node $leader"
fl_nats_kill "$leader"
wait "$p1" "$p2"
sleep 3 # the last files seal
fl_wait_catalog 1 40
fl_wait_catalog 2 40
fl_log "catalog: s1 $(fl_catalog_files 1 | wc -l) files, s2 $(fl_catalog_files 2 | wc -l) files"
# a JetStream request may still time out while the two nodes left settle:
# asked again for up to 30 s, then it must list both sensors
ok=0
for ((i = 0; i < 30; i++)); do
	if fl_client ls --json 2>"$FL_TMP/ls.err" | python3 -c '
import json, sys
assert {s["sensor"] for s in json.load(sys.stdin)["sensors"]} == {"s1", "s2"}' 2>/dev/null; then
		ok=1
		break
	fi
	sleep 1
done
[ "$ok" = 1 ] || fl_fail "fleet ls without the killed node: $(cat "$FL_TMP/ls.err")"
fl_sensor_stop 1
fl_sensor_stop 2
echo PASS
