#!/bin/bash
# No loss while filters change (issue 11, item 6): the appliance captures a
# steady stream while its filter and snaplen are changed over REST every
# INTERVAL seconds; every offered frame matches both filters, so every one
# must be in the file.
#
#   bench/capture/churn.sh [--paths default,afxdp,ringbuf] [--rate PPS]
#                          [--seconds S] [--interval S]
#
# Defaults: 300 kpps, 60 s, a change every 2 s (the issue's run: 5 minutes,
# --seconds 300). One JSON line per path on stdout (and in $OUT, default
# /tmp/bn-churn.jsonl). Root; namespaces bn<pid>h{c,p}, removed on exit.
set -uo pipefail
BC_DIR=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$BC_DIR/../..")
BUILD=${BUILD:-$ROOT/build}
PATHS=default,afxdp RATE=300000 SECS=60 EVERY=2 OUT=${OUT:-/tmp/bn-churn.jsonl}
while [ $# -gt 0 ]; do
	case $1 in
	--paths) PATHS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--interval) EVERY=$2; shift 2 ;;
	*) echo "churn.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
# shellcheck source=scripts/netns/lib.sh
source "$ROOT/scripts/netns/lib.sh"
# shellcheck source=bench/capture/lib.sh
source "$BC_DIR/lib.sh"
BC_WORK=$(mktemp -d /tmp/bn-churn.XXXXXX)
nh_cleanup_add "rm -rf '$BC_WORK'"
nh_cleanup_add "bc_stop cap KILL; bc_stop gen KILL"
nh_cleanup_trap
id="bn$(($$ % 100000))h"
nh_up "$id" --queues 1 >/dev/null || exit 1
ip -n "$NH_CAP_NS" addr flush dev "$NH_CAP_IF" # a capture port
APP=$BUILD/cli/capture-appliance
PKTGEN=$BUILD/bench/pktgen/bn-pktgen
# our own token: never the shared /run/capture-appliance/api.token
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$BC_WORK/token"
chmod 600 "$BC_WORK/token"
cli() { ip netns exec "$NH_CAP_NS" "$APP" --token-file "$BC_WORK/token" "$@"; }
: >"$OUT"
for path in ${PATHS//,/ }; do
	args=()
	[ "$path" = default ] || args=(--ingress-path "$path")
	file=$BC_WORK/cap.pcap
	rm -f "$file"
	load0=$(cut -d' ' -f1 /proc/loadavg)
	bc_bg cap ip netns exec "$NH_CAP_NS" "$APP" start --iface "$NH_CAP_IF" --mode ingress \
		--filter udp --snaplen 64 --dump "${file%.pcap}" --token-file "$BC_WORK/token" \
		--stats-interval 0 "${args[@]}" ${BC_APPLIANCE_ARGS:-}
	bc_wait_ready cap 'capture [^ ]+ on [^ ]+: XDP' 30 || { bc_reason cap; exit 1; }
	sleep 0.5
	count=$((RATE * SECS))
	bc_bg gen ip netns exec "$NH_PEER_NS" "$PKTGEN" --iface "$NH_PEER_IF" --count "$count" \
		--rate "$RATE" --size 64 --flows 16 --cpus 1 --json
	changes=0 failed=0 t0=$(date +%s.%N)
	while bc_running gen; do
		sleep "$EVERY"
		bc_running gen || break
		if ((changes % 2)); then f=udp s=64; else f="udp and dst port 9" s=96; fi
		if cli set "$NH_CAP_IF" "filter=$f" "snaplen=$s" >/dev/null 2>>"$BC_WORK/cli.err"; then
			changes=$((changes + 1))
		else
			failed=$((failed + 1))
		fi
	done
	bc_stop gen INT
	bc_wait_file_settled "$file"
	bc_stop cap INT
	captured=$(bc_count_pcap "$file")
	final=$(grep -o 'final .*' "$BC_WORK/cap.err" | tail -n1)
	load1=$(cut -d' ' -f1 /proc/loadavg)
	python3 - "$path" "$(bc_app_path)" "$captured" "$changes" "$failed" "$RATE" "$SECS" \
		"$BC_WORK/gen.out" "$final" "$load0" "$load1" "$(tail -n1 "$BC_WORK/cli.err" 2>/dev/null)" <<'PY' | tee -a "$OUT"
import json, sys
path, via, cap, ch, failed, rate, secs, gen, final, l0, l1, clierr = sys.argv[1:]
g = {}
try:
    g = json.loads([l for l in open(gen) if l.startswith("{")][-1])
except (OSError, IndexError, ValueError):
    pass
sent = g.get("sent", 0)
print(json.dumps(dict(path=path, ingress_via=via, rate_pps=int(rate), seconds=int(secs),
    changes=int(ch), failed_changes=int(failed), offered=sent, captured=int(cap),
    lost=sent - int(cap), loss_pct=100.0 * (sent - int(cap)) / sent if sent else None,
    appliance=final, loadavg=[float(l0), float(l1)], last_cli_error=clierr or None)))
PY
done
