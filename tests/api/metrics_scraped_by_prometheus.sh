#!/bin/bash
# GET /metrics: the Prometheus text format, every family passing
# `promtool check metrics`; behind the token on the REST port, alone and
# without a token on --metrics-listen (anything else there is 404). A real
# Prometheus server on loopback scrapes the appliance and its query API
# returns the drop counter (cause network_backlog) that the REST stats
# report, and seen/matched by direction.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" me

api_start --mode ingress --filter "udp port 5555" --snaplen 2000 --net-buffer 300000 \
	--metrics-listen 127.0.0.1:9100
expect 200 PUT /api/v1/captures/first/networkmode 'true'
api_send 5555 1000 1000 2000 # ~1 MB through a 300 kB backlog: drops
wait_stat first written 1000 20
dropped=$(stat_of first net_dropped)
((dropped > 0)) || api_fail "no backlog drops to see"

expect 200 GET /metrics
printf '%s\n' "$BODY" >"$API_TMP/metrics.txt"
promtool check metrics <"$API_TMP/metrics.txt" >"$API_TMP/promtool.out" 2>&1 ||
	api_fail "promtool check metrics: $(cat "$API_TMP/promtool.out")"
grep -qx "capture_appliance_drops_total{capture=\"first\",iface=\"$NH_CAP_IF\",cause=\"network_backlog\"} $dropped" \
	"$API_TMP/metrics.txt" || api_fail "no network_backlog drops of $dropped in /metrics"
grep -qx "capture_appliance_packets_matched_total{capture=\"first\",iface=\"$NH_CAP_IF\",direction=\"in\"} 1000" \
	"$API_TMP/metrics.txt" || api_fail "matched in != 1000: $(grep matched_total "$API_TMP/metrics.txt")"
grep -q '^capture_appliance_filter_compile_seconds_count [1-9]' "$API_TMP/metrics.txt" ||
	api_fail "no filter compile counted"
API_AUTH=()
expect 401 GET /metrics
code=$(in_cap curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9100/metrics)
[ "$code" = 200 ] || api_fail "metrics listener: $code"
code=$(in_cap curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9100/api/v1/captures)
[ "$code" = 404 ] || api_fail "metrics listener served the API: $code"
code=$(in_cap curl -s -o /dev/null -w '%{http_code}' -X DELETE http://127.0.0.1:9100/metrics)
[ "$code" = 405 ] || api_fail "metrics listener took a DELETE: $code"

# a real Prometheus, on the capture namespace's loopback
cat >"$API_TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: appliance
    static_configs:
      - targets: ['127.0.0.1:9100']
YML
in_cap prometheus --config.file="$API_TMP/prometheus.yml" --storage.tsdb.path="$API_TMP/tsdb" \
	--web.listen-address=127.0.0.1:9090 >"$API_TMP/prometheus.log" 2>&1 &
nh_cleanup_add "kill $! 2>/dev/null"
q='capture_appliance_drops_total{cause="network_backlog"}'
got=
for ((i = 0; i < 300; i++)); do
	got=$(in_cap curl -s -G --data-urlencode "query=$q" http://127.0.0.1:9090/api/v1/query |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null || true)
	[ -n "$got" ] && break
	sleep 0.1
done
[ -n "$got" ] || api_fail "Prometheus has no $q: $(tail -5 "$API_TMP/prometheus.log")"
[ "$got" = "$dropped" ] || api_fail "Prometheus says $got drops, REST says $dropped"
api_log "Prometheus read back $q = $got (REST: $dropped)"
api_stop
echo PASS
