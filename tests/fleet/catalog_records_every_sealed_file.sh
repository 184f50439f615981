#!/bin/bash
# A three-node NATS cluster (JetStream) and two sensors capturing with 2-s
# rotation: every sealed file of each sensor has exactly one catalog record
# (none missing, none twice, none for a file that does not exist); the
# catalog stream and the KV bucket are replicated on the three nodes (R3);
# `fleet ls` lists both sensors with their captures and the time covered.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
fl_init "$1" a
fl_nats_up
fl_sensor_up 1
fl_sensor_up 2
fl_send 1 --count 300 --rate 100 --tag 1 &
sender=$!
fl_send 2 --count 300 --rate 100 --tag 2
wait "$sender"
sleep 3 # the last files with traffic seal
fl_wait_catalog 1
fl_wait_catalog 2
fl_log "catalog: s1 $(fl_catalog_files 1 | wc -l) files, s2 $(fl_catalog_files 2 | wc -l) files"

# R3: the stream and the bucket's stream, as a node's monitoring sees them
jsz=$(fl_hub curl -sf 'http://127.0.0.1:8222/jsz?streams=true&config=true')
python3 - "$jsz" <<'PY' || fl_fail "stream or bucket not R3"
import json, sys
j = json.loads(sys.argv[1])
seen = {}
for acc in j.get("account_details", []):
    for s in acc.get("stream_detail", []):
        seen[s["name"]] = s
for name in ("CA_CATALOG", "KV_ca_sensors"):
    s = seen.get(name)
    assert s, f"{name}: not on node 1"
    r = s["config"]["num_replicas"]
    replicas = 1 + len(s.get("cluster", {}).get("replicas", []) or [])
    print(f"{name}: num_replicas {r}, peers {replicas}, dup window {s['config'].get('duplicate_window')}")
    assert r == 3 and replicas == 3, name
assert seen["CA_CATALOG"]["config"]["duplicate_window"] == 600 * 10**9
PY

# ls: both sensors, their capture, a time range; the heartbeat is recent
# (asked again for 10 s: a JetStream request may time out while the
# cluster settles; the check below then says what was wrong)
for ((i = 0; i < 10; i++)); do
	fl_client ls >"$FL_TMP/ls.txt" 2>&1 && fl_client ls --json >"$FL_TMP/ls.json" 2>"$FL_TMP/ls.err" &&
		break
	sleep 1
done
cat "$FL_TMP/ls.txt"
python3 - "$FL_TMP/ls.json" <<'PY' || fl_fail "fleet ls --json"
import json, sys, time
j = json.load(open(sys.argv[1]))
by = {s["sensor"]: s for s in j["sensors"]}
assert set(by) == {"s1", "s2"}, by.keys()
for n, s in by.items():
    assert s["advertise"] == f"http://10.77.{n[1]}.2:9000", s["advertise"]
    assert time.time() - int(s["last_seen_ns"]) / 1e9 < 15, "heartbeat too old"
    caps = {c["name"]: c for c in s["captures"]}
    c = caps[s["captures"][0]["name"]]
    assert c["running"] and c["filter"] == "udp" and c["files"] >= 1, c
    assert 0 < int(c["first_ns"]) <= int(c["last_ns"]), c
PY
fl_sensor_stop 1
fl_sensor_stop 2
echo PASS
