#!/usr/bin/env python3
"""One TCP transfer of a known size: "tcpflow.py serve IP PORT" (peer side,
accepts one connection and reads it to the end, prints the byte count) and
"tcpflow.py send IP PORT BYTES SPORT" (sends BYTES bytes from source port
SPORT, large writes so the stack builds GSO super-packets)."""
import socket
import sys


def main():
    mode, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "serve":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((ip, port))
        ls.listen(1)
        print("ready", flush=True)
        c, _ = ls.accept()
        n = 0
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            n += len(d)
        print(n, flush=True)
    else:
        nbytes, sport = int(sys.argv[4]), int(sys.argv[5])
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", sport))
        s.connect((ip, port))
        chunk = bytes(range(256)) * 1024
        left = nbytes
        while left:
            left -= s.send(chunk[:min(left, len(chunk))])
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
        s.close()


if __name__ == "__main__":
    main()
