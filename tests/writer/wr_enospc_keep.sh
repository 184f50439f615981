#!/bin/bash
# A wr_open that fails (here: no space for the new file's header) leaves the
# existing file at the path byte-identical; usage: wr_enospc_keep.sh HELPER
set -euo pipefail
helper=$1
mnt=$(mktemp -d /tmp/wr-enospc-XXXXXX)
trap 'rmdir "$mnt"' EXIT
unshare -m --propagation private bash -c '
	set -e
	mount -t tmpfs -o size=1m wr-enospc "$1"
	head -c 300000 /dev/urandom >"$1/cap.pcap"
	before=$(sha256sum <"$1/cap.pcap")
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
	"$2" "$1/cap.pcap" open-fails
	after=$(sha256sum <"$1/cap.pcap")
	test "$before" = "$after" || { echo "existing file changed"; exit 1; }
	test "$(ls -A "$1" | tr "\n" " ")" = "cap.pcap fill " || { ls -la "$1"; exit 1; }' \
	_ "$mnt" "$helper"
