#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""send_udp.py DST COUNT PORT FLOWS [PAUSE_MS [STOP_FILE]]

Sends COUNT known UDP datagrams to DST, spread over FLOWS flows (one socket
and destination port each, so the peer's TX queue and thus our RX queue
varies). Datagram seq goes to port PORT + seq % FLOWS and carries seq
(4 bytes, big endian) then filler up to payload_len(seq) bytes; the tests
compute the same lengths. Paced so a modest copy-mode receiver loses nothing:
a pause of PAUSE_MS (default 3) after every 200 datagrams.

COUNT 0: send until STOP_FILE exists, then write the number sent to
STOP_FILE.count (for tests whose other steps take as long as they take)."""
import os
import socket
import struct
import sys
import time


def payload_len(seq):
    return 18 + (seq * 37) % 1400


def main():
    dst, count, port, flows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    pause = (float(sys.argv[5]) if len(sys.argv) > 5 else 3.0) / 1000
    stop = sys.argv[6] if len(sys.argv) > 6 else None
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(flows)]
    seq = 0
    while seq < count or (count == 0 and not os.path.exists(stop)):
        n = payload_len(seq)
        data = struct.pack("!I", seq) + bytes((seq + i) & 0xFF for i in range(n - 4))
        socks[seq % flows].sendto(data, (dst, port + seq % flows))
        if seq % 200 == 199:
            time.sleep(pause)
        seq += 1
    for s in socks:
        s.close()
    if stop:
        with open(stop + ".count", "w") as f:
            f.write("%d\n" % seq)


if __name__ == "__main__":
    main()
