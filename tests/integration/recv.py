#!/usr/bin/env python3
"""Counts the send.py datagrams that reach a UDP socket (i.e. the host's
stack): recv.py --bind IP --port P --out FILE. Writes the count to FILE on
SIGTERM/SIGINT or after --seconds without traffic, then exits. Prints
"ready" on stdout once bound. On a signal, the datagrams already queued on
the socket are counted first: a receiver the scheduler kept waiting must
not report fewer than arrived."""
import argparse
import os
import select
import signal
import socket


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, default=7777)
    p.add_argument("--out", required=True)
    p.add_argument("--seconds", type=float, default=60.0)
    a = p.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.bind, a.port))
    s.setblocking(False)
    # a signal only wakes the loop (through this pipe): counting is never
    # cut between a receive and its count
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    n = 0
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([s, r], [], [], a.seconds)
        # everything queued now, then stop if a signal came or time is up
        while True:
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            if data[:4] == b"ITCA":
                n += 1
        if not ready or r in ready:
            break
    with open(a.out, "w") as f:
        f.write("%d\n" % n)


if __name__ == "__main__":
    main()
