#!/usr/bin/env python3
"""A stand-in for systemd's notification socket: binds an AF_UNIX datagram
socket at argv[1] and appends every message it receives to argv[2], one
datagram per line (its newlines shown as '|'), until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(path):
    os.unlink(path)
s.bind(path)
with open(out, "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        msg = s.recv(4096).decode(errors="replace")
        f.write(msg.strip("\n").replace("\n", "|") + "\n")
