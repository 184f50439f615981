#!/bin/bash
# Retention by free space: rotation into a 4 MiB tmpfs with min_free_pct 50
# (in a private mount namespace); usage: wr_min_free.sh HELPER
set -euo pipefail
helper=$1
mnt=$(mktemp -d /tmp/wr-minfree-XXXXXX)
trap 'rmdir "$mnt"' EXIT
unshare -m --propagation private bash -c '
	set -e
	mount -t tmpfs -o size=4m wr-minfree "$1"
	cd "$1"
	"$2" "$1/cap" min-free
	for f in "$1"/cap-*.pcap; do capinfos -c "$f" >/dev/null; done' _ "$mnt" "$helper"
