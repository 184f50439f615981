#!/bin/bash
# All three NATS nodes down while a sensor captures: it keeps capturing and
# sealing files, and when NATS is back every file sealed meanwhile gets its
# catalog record, exactly once. Then the same across a restart of the
# sensor while NATS is down: the records its queue held are found again by
# the reconciliation at the next start, still exactly once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
fl_init "$1" c
fl_nats_up
fl_sensor_up 1
fl_send 1 --count 200 --rate 100 --tag 1
sleep 2.5
fl_wait_catalog 1
before=$(fl_local_sealed 1 | wc -l)

all_down() { local n; for n in 1 2 3; do fl_nats_kill "$n"; done; }
all_up() { local n; for n in 1 2 3; do fl_nats_start "$n"; done; fl_nats_wait_meta; }

# 1: down while the sensor runs
all_down
fl_send 1 --count 400 --rate 100 --tag 2
sleep 2.5
during=$(fl_local_sealed 1 | wc -l)
[ "$during" -gt "$before" ] || fl_fail "no file sealed while NATS was down ($before, $during)"
grep -q "fleet: lost" "$FL_TMP/s1.log" || fl_fail "the sensor did not notice NATS was gone"
kill -0 "${FL_SPID[1]}" || fl_fail "the sensor stopped while NATS was down"
all_up
fl_wait_catalog 1 40
fl_log "phase 1: $before files before, $during after the outage, all in the catalog once"

# 2: down, the sensor stopped and started again meanwhile
all_down
fl_send 1 --count 300 --rate 100 --tag 3
sleep 2.5
fl_sensor_stop 1
all_up
fl_sensor_up 1
fl_wait_catalog 1 40
fl_log "phase 2: $(fl_catalog_files 1 | wc -l) files in the catalog once"
fl_sensor_stop 1
echo PASS
