#!/usr/bin/env python3
"""Sends a known set of Ethernet/IPv4/UDP frames and records what it sent.

Two ways to send (run it inside the namespace that should send):
  raw  an AF_PACKET socket writes whole frames on IFACE: every byte is known
       (MACs, IPv4 header with its checksum, UDP header, payload).
  udp  a plain UDP socket: frames take the host's normal stack path; the
       payload is known, the headers are the kernel's.

Every frame has a distinct payload: b"ITCA", a tag byte, the flow index, the
sequence number, then a pattern. Frame sizes (Ethernet header + payload, no
FCS) cycle through --sizes. --flows spreads the frames over that many UDP
source ports (so a multi-queue veth spreads them over its queues).

--expect FILE writes the frames sent (raw mode: whole frames; udp mode: the
frame the stack will build, as far as it is known) as a pcap file for
pcapcheck.py. Pacing: frame i leaves at start + i / --rate; a sender more
than 20 ms behind (descheduled on a loaded machine) slips its schedule
rather than catching up in a burst that would overflow the receive rings.
"""
import argparse
import os
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip_checksum(hdr):
    if len(hdr) % 2:
        hdr += b"\0"
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def payload(tag, flow, seq, plen):
    head = b"ITCA" + struct.pack("!BBI", tag & 0xFF, flow & 0xFF, seq)
    body = bytes((seq + i) & 0xFF for i in range(max(0, plen - len(head))))
    return (head + body)[:plen]


def frame(a, seq, flen):
    """One whole frame of flen bytes (>= 42 + 10)."""
    flow = seq % a.flows
    plen = flen - 14 - 20 - 8
    data = payload(a.tag, flow, seq, plen)
    udp = struct.pack("!HHHH", a.sport + flow, a.dport, 8 + plen, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + plen, seq & 0xFFFF, 0,
                     64, 17, 0, socket.inet_aton(a.src_ip),
                     socket.inet_aton(a.dst_ip))
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    eth = mac_bytes(a.dst_mac) + mac_bytes(a.src_mac) + struct.pack("!H", ETH_P_IP)
    return eth + ip + udp + data


def write_pcap(path, records):
    """records: (ts_ns, bytes); nanosecond pcap, snaplen 262144."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for ts, data in records:
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(data), len(data)))
            f.write(data)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["raw", "udp"], default="raw")
    p.add_argument("--iface", help="raw mode: interface to send on")
    p.add_argument("--src-mac", default="02:1c:00:00:00:02")
    p.add_argument("--dst-mac", default="02:1c:00:00:00:01")
    p.add_argument("--src-ip", default="10.199.0.2")
    p.add_argument("--dst-ip", default="10.199.0.1")
    p.add_argument("--sport", type=int, default=40000)
    p.add_argument("--dport", type=int, default=7777)
    p.add_argument("--flows", type=int, default=1)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--sizes", default="60,128,512,1000,1514",
                   help="frame sizes in bytes, cycled (52..9014; over 1514 needs a jumbo MTU)")
    p.add_argument("--rate", type=float, default=2000.0, help="frames per second")
    p.add_argument("--tag", type=int, default=1, help="0-255, marks this run")
    p.add_argument("--seq-base", type=int, default=0)
    p.add_argument("--expect", help="write the frames sent to this pcap file")
    p.add_argument("--started", metavar="FILE",
                   help="create FILE once the first frame is sent (tests wait for it)")
    p.add_argument("--stop-file", metavar="FILE",
                   help="stop early (cleanly, --expect still written) once FILE exists")
    p.add_argument("--dry-run", action="store_true",
                   help="send nothing, only write --expect (the frames are deterministic)")
    a = p.parse_args()

    sizes = [int(x) for x in a.sizes.split(",")]
    if any(s < 52 or s > 9014 for s in sizes) or a.flows < 1 or a.count < 0:
        p.error("sizes must be 52..9014, flows >= 1, count >= 0")

    if a.dry_run:
        a.rate = float("inf")
    elif a.mode == "raw":
        if not a.iface:
            p.error("raw mode needs --iface")
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        sock.bind((a.iface, 0))
    else:
        socks = []
        for f in range(a.flows):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a.src_ip, a.sport + f))
            socks.append(s)

    sent = []
    start = time.monotonic()
    for i in range(a.count):
        if a.stop_file and i % 64 == 0 and os.path.exists(a.stop_file):
            break
        seq = a.seq_base + i
        due = start + i / a.rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elif now - due > 0.02:
            # Descheduled (a loaded machine): slip the schedule instead of
            # catching up in one burst that would overflow the receive rings.
            start += now - due
        fr = frame(a, seq, sizes[i % len(sizes)])
        if a.dry_run:
            pass
        elif a.mode == "raw":
            n = sock.send(fr)
            if n != len(fr):
                sys.exit("send.py: short send %d of %d" % (n, len(fr)))
        else:
            flow = seq % a.flows
            socks[flow].sendto(fr[42:], (a.dst_ip, a.dport))
        sent.append((time.time_ns(), fr))
        if i == 0 and a.started:
            open(a.started, "w").close()

    if a.expect:
        write_pcap(a.expect, sent)
    print("send.py: sent %d frames, %d bytes" % (len(sent), sum(len(f) for _, f in sent)))


if __name__ == "__main__":
    main()
