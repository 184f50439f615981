#!/bin/bash
# run_fuzz.sh FUZZER SEEDS SECONDS [libFuzzer options...]: runs a libFuzzer
# target for SECONDS on the committed seed corpus. New inputs go to a
# temporary folder (the committed corpus stays as it is); a failing input
# is kept next to the build (printed below) to replay with `FUZZER FILE`.
set -euo pipefail
fuzzer=$1 seeds=$2 secs=$3
shift 3
[ -x "$fuzzer" ] || { echo "FAIL: no fuzzer at $fuzzer" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
art=$(dirname "$fuzzer")/artifacts/$(basename "$fuzzer")/
rm -rf "$art"
mkdir -p "$art"
# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a leak or a
# runaway allocation fails instead of swapping
if "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$art" "$@" "$work" "$seeds"; then
	echo "PASS: $(basename "$fuzzer"): ${secs}s, $(find "$work" -type f | wc -l) new inputs, no failure"
	exit 0
fi
echo "FAIL: $(basename "$fuzzer") found a failing input (see above; saved in $art)" >&2
for f in "$art"/*; do
	[ -f "$f" ] && { echo "--- $f" >&2; od -A d -t x1z "$f" | head -40 >&2; }
done
exit 1
