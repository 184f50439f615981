#!/bin/bash
# ENOSPC: the writer fills a 1 MiB tmpfs mounted in a private mount
# namespace; usage: wr_enospc.sh HELPER BACKEND DIRECT
set -euo pipefail
helper=$1 backend=$2 direct=$3
mnt=$(mktemp -d /tmp/wr-enospc-XXXXXX)
trap 'rmdir "$mnt"' EXIT
# the mount lives and dies with the private namespace: nothing to unmount
unshare -m --propagation private bash -c '
	mount -t tmpfs -o size=1m wr-enospc "$1" &&
	"$2" "$1/cap.pcap" "$3" "$4" &&
	capinfos -c "$1/cap.pcap" >/dev/null' _ "$mnt" "$helper" "$backend" "$direct"
