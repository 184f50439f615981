#!/bin/bash
# sanitize_build.sh SRC BUILD CLANG TARGET...: configures BUILD as the
# sanitized tree (clang, ASan + UBSan, libFuzzer coverage) and builds only
# the TARGETs, two jobs at a time (CI has two cores).
set -euo pipefail
src=$1 bin=$2 clang=$3
shift 3
cmake -S "$src" -B "$bin" -DCMAKE_C_COMPILER="$clang" -DCMAKE_BUILD_TYPE=Sanitize \
	-DCA_FUZZ=ON >"$bin.configure.log" 2>&1 ||
	{ cat "$bin.configure.log" >&2; exit 1; }
nice cmake --build "$bin" -j2 --target "$@"
