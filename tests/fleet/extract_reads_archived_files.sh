#!/bin/bash
# With the archive (a Swift all-in-one with s3api in the hub): a sensor
# archives its sealed files and local retention deletes the oldest archived
# ones (--archive-keep-local 200k: the newest two data files of ~80 KB stay,
# so the sensor itself still answers however late the extraction runs; a
# file-count budget is not used, since the empty files an idle capture
# seals every 2 s would push the data files out); each archived file gets an
# "archived" catalog record with its object key; `fleet extract --archive`
# returns every frame sent, those of the deleted files read from the
# archive; with the sensor stopped, its archived files still come from the
# archive, and the answer says it is partial (exit 3).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$FL_SRC/tests/archive/swift.sh"
fl_init "$1" r
SWIFT_NO_TRAP=1
SWIFT_PROXY_BIND=0.0.0.0
nh_cleanup_add swift_stop
swift_start "$FL_HUB" || fl_fail "Swift did not start"
swift_mkbucket fleet-test || fl_fail "bucket"
port=${SWIFT_S3##*:}
(umask 077 && printf 'access_key = %s\nsecret_key = %s\n' "$SWIFT_KEY" "$SWIFT_SECRET" >"$FL_TMP/cred")
fl_nats_up
FL_ROTATE="--rotate-time 2 --archive-keep-local 200k"
fl_sensor_up 1 --archive s3://fleet-test/site --s3-endpoint "http://10.77.1.1:$port" \
	--s3-credentials "$FL_TMP/cred" --archive-state "$FL_TMP/state"
from=$(date +%s.%N)
fl_send 1 --count 800 --rate 100 --tag 1 --expect "$FL_TMP/sent.pcap"
to=$(date +%s.%N)
sleep 3
# archived records in the catalog for the files retention deleted
for ((i = 0; i < 60; i++)); do
	arch=$(fl_client catalog --sensor s1 | grep -c '"kind":"archived"' || true)
	gone=$(fl_client catalog --sensor s1 | python3 -c '
import json, os, sys
print(sum(1 for l in sys.stdin for r in [json.loads(l)]
          if r["kind"] == "sealed" and not os.path.exists(r["path"])))') || gone=0
	[ "$arch" -ge 3 ] && [ "$gone" -ge 2 ] && break
	sleep 0.5
done
fl_log "catalog: $arch archived records, $gone sealed files deleted locally"
[ "$arch" -ge 3 ] && [ "$gone" -ge 2 ] || fl_fail "no archived records or no file deleted"
{ fl_client catalog --sensor s1 | grep '"kind":"archived"' | head -n 1; } || true

AR=(--archive s3://fleet-test/site --s3-endpoint "$SWIFT_S3" --s3-credentials "$FL_TMP/cred")
rc=0
fl_client extract --from "$from" --to "$to" "${AR[@]}" -w "$FL_TMP/all.pcap" 'udp port 7777' \
	2>"$FL_TMP/all.err" || rc=$?
cat "$FL_TMP/all.err"
[ "$rc" -eq 0 ] || fl_fail "fleet extract --archive: exit status $rc"
grep -q "files from the archive" "$FL_TMP/all.err" || fl_fail "no progress line"
grep -q "([1-9][0-9]* files from the archive)" "$FL_TMP/all.err" || fl_fail "nothing read from the archive"
grep -q "s1/[^:]*: [1-9][0-9]* bytes" "$FL_TMP/all.err" || fl_fail "nothing read from the sensor itself"
python3 "$FL_DIR/pcapcmp.py" --bytes "$FL_TMP/all.pcap" "$FL_TMP/sent.pcap" ||
	fl_fail "the answer is not every frame sent"

# without the archive: the deleted files' frames are missing
fl_client extract --from "$from" --to "$to" -w "$FL_TMP/local.pcap" 'udp port 7777' 2>/dev/null ||
	true # what it holds is the check
python3 "$FL_DIR/pcapcmp.py" --bytes "$FL_TMP/local.pcap" "$FL_TMP/sent.pcap" >/dev/null &&
	fl_fail "the sensor alone still had every frame: retention deleted nothing"

# the sensor stopped: its archived files still come, the answer is partial
fl_sensor_stop 1
rc=0
fl_client extract --from "$from" --to "$to" "${AR[@]}" -w "$FL_TMP/part.pcap" 'udp port 7777' \
	2>"$FL_TMP/part.err" || rc=$?
cat "$FL_TMP/part.err"
[ "$rc" -eq 3 ] || fl_fail "sensor stopped: exit status $rc, expected 3"
grep -q "([1-9][0-9]* files from the archive)" "$FL_TMP/part.err" || fl_fail "nothing from the archive"
echo PASS
