#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Mixed traffic for the extract tests and benchmark: Ethernet (untagged,
802.1Q, QinQ), IPv4 (TCP, UDP, ICMP, GRE, fragments), IPv6 (TCP, UDP, a
fragment header), ARP; or raw IP. Deterministic (seeded).

  gen.py OUT --start NS --end NS --count N [--format pcap|pcapng|pcap-us]
         [--linktype eth|raw] [--seed S] [--hosts H]
"""
import argparse
import random
import struct


def csum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, frag=0, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                    bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, bytes(src), bytes(dst)) + payload


def l4(proto, sport, dport, n):
    body = bytes((i * 7) & 0xFF for i in range(n))
    if proto == 6:
        return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x18, 8192, 0, 0) + body
    if proto == 17:
        return struct.pack("!HHHH", sport, dport, 8 + n, 0) + body
    return struct.pack("!BBHI", 8, 0, 0, 1) + body  # ICMP echo / anything


class Gen:
    def __init__(self, seed, hosts, linktype):
        self.r = random.Random(seed)
        self.hosts = hosts
        self.raw = linktype == "raw"

    def v4(self):
        h = self.r.randrange(self.hosts)
        return [10, (h >> 8) & 0xFF, h & 0xFF, 1 + (h % 7)] if self.r.random() < 0.9 else \
            [192, 168, self.r.randrange(4), self.r.randrange(1, 255)]

    def v6(self):
        h = self.r.randrange(self.hosts)
        return [0x20, 0x01, 0x0d, 0xb8] + [0] * 8 + [0, 0, (h >> 8) & 0xFF, h & 0xFF]

    def port(self):
        return self.r.choice([53, 80, 443, 22, 123, 8080]) if self.r.random() < 0.5 \
            else self.r.randrange(1024, 65536)

    def l3(self):
        r = self.r
        k = r.random()
        n = r.choice([0, 10, 60, 200, 700, 1400])
        if k < 0.55:
            proto = r.choice([6, 6, 17, 17, 1, 47, 132])
            frag = 0
            if r.random() < 0.03:
                frag = r.choice([0x2000, 0x00B9, 0x20B9])
            return 0x0800, ip4(self.v4(), self.v4(), proto, l4(proto, self.port(), self.port(), n), frag,
                               r.randrange(65536))
        if k < 0.9:
            nh = r.choice([6, 17, 17, 58])
            pl = l4(nh, self.port(), self.port(), n)
            if r.random() < 0.05:  # fragment header in front
                pl = struct.pack("!BBHI", nh, 0, 0, r.randrange(1 << 32)) + pl
                nh = 44
            return 0x86DD, ip6(self.v6(), self.v6(), nh, pl)
        if k < 0.95 and not self.raw:
            arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, r.choice([1, 2]), b"\x02" * 6,
                              bytes(self.v4()), b"\0" * 6, bytes(self.v4()))
            return 0x0806, arp
        return 0x0800, ip4(self.v4(), self.v4(), 17, l4(17, 53, self.port(), n))

    def frame(self):
        et, l3 = self.l3()
        if self.raw:
            return l3
        tags = b""
        k = self.r.random()
        if k < 0.25:
            tags = struct.pack("!HH", 0x8100, self.r.choice([100, 200, 300, 4095, 7]))
        elif k < 0.30:
            tags = struct.pack("!HHHH", 0x88A8, self.r.choice([10, 20]), 0x8100, self.r.choice([100, 200]))
        return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02" + tags + struct.pack("!H", et) + l3


def write(out, fmt, linktype, recs, snaplen=262144):
    lt = 101 if linktype == "raw" else 1
    with open(out, "wb") as f:
        if fmt == "pcapng":
            f.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
            f.write(struct.pack("<IIHHIHHBxxxHHI", 1, 32, lt, 0, snaplen, 9, 1, 9, 0, 0, 32))
            for ts, data, wire in recs:
                pad = (-len(data)) & 3
                bl = 32 + len(data) + pad
                f.write(struct.pack("<IIIIIII", 6, bl, 0, ts >> 32, ts & 0xFFFFFFFF, len(data), wire))
                f.write(data + b"\0" * pad + struct.pack("<I", bl))
        else:
            us = fmt == "pcap-us"
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4 if us else 0xA1B23C4D, 2, 4, 0, 0, snaplen, lt))
            for ts, data, wire in recs:
                sec, frac = divmod(ts, 1000000000)
                if us:
                    frac //= 1000
                f.write(struct.pack("<IIII", sec, frac, len(data), wire) + data)


def records(g, start, end, count, snap=None):
    r = g.r
    step = (end - start) / max(count, 1)
    out = []
    for i in range(count):
        ts = int(start + i * step + r.random() * step * 0.5)
        if r.random() < 0.02 and out:
            ts = out[-1][0]  # equal timestamps
        fr = g.frame()
        wire = len(fr)
        if snap and len(fr) > snap:
            fr = fr[:snap]
        elif r.random() < 0.02:
            fr = fr[:r.randrange(1, len(fr) + 1)]  # cut short (snaplen)
        out.append((ts, fr, wire))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--start", type=int, required=True)
    ap.add_argument("--end", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--format", default="pcap")
    ap.add_argument("--linktype", default="eth")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hosts", type=int, default=500)
    a = ap.parse_args()
    g = Gen(a.seed, a.hosts, a.linktype)
    write(a.out, a.format, a.linktype, records(g, a.start, a.end, a.count))


if __name__ == "__main__":
    main()
