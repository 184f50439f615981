#!/usr/bin/env python3
"""Counts the send.py datagrams that reach a UDP socket (i.e. the host's
stack): recv.py --bind IP --port P --out FILE. Writes the count to FILE on
SIGTERM/SIGINT or after --seconds without traffic, then exits. Prints
"ready" on stdout once bound."""
import argparse
import signal
import socket
import sys


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
    s.settimeout(a.seconds)
    n = 0

    def done(*_):
        with open(a.out, "w") as f:
            f.write("%d\n" % n)
        sys.exit(0)

    signal.signal(signal.SIGTERM, done)
    signal.signal(signal.SIGINT, done)
    print("ready", flush=True)
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            done()
        if data[:4] == b"ITCA":
            n += 1


if __name__ == "__main__":
    main()
