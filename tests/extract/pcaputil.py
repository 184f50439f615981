# SPDX-License-Identifier: BSD-2-Clause
"""pcap (us/ns, either byte order) and pcapng reading for the tests:
(link type, [(time ns, caplen, wirelen, bytes)])."""
import struct


def read_capture(src):
    b = src if isinstance(src, (bytes, bytearray)) else open(src, "rb").read()
    if len(b) < 4:
        raise ValueError("empty capture")
    if b[:4] == b"\x0a\x0d\x0d\x0a":
        return read_ng(b)
    for e in "<>":
        magic = struct.unpack(e + "I", b[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise ValueError("not a capture")
    scale = 1 if magic == 0xA1B23C4D else 1000
    lt = struct.unpack(e + "I", b[20:24])[0] & 0xFFFF
    out, off = [], 24
    while off + 16 <= len(b):
        s, f, cl, wl = struct.unpack(e + "IIII", b[off:off + 16])
        out.append((s * 10**9 + f * scale, cl, wl, bytes(b[off + 16:off + 16 + cl])))
        off += 16 + cl
    assert off == len(b), "trailing bytes"
    return lt, out


def read_ng(b):
    e = "<" if struct.unpack("<I", b[8:12])[0] == 0x1A2B3C4D else ">"
    off, ifs, out = 0, [], []
    while off + 12 <= len(b):
        t, ln = struct.unpack(e + "II", b[off:off + 8])
        body = b[off + 8:off + ln - 4]
        if t == 1:
            lt, _, snap = struct.unpack(e + "HHI", body[:8])
            res = 6
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + "HH", body[o:o + 4])
                if code == 0:
                    break
                if code == 9:
                    res = body[o + 4]
                o += 4 + ((olen + 3) & ~3)
            ifs.append((lt, res))
        elif t == 6:
            ifid, hi, lo, cl, wl = struct.unpack(e + "IIIII", body[:20])
            lt, res = ifs[ifid]
            ts = hi << 32 | lo
            ns = ts * 10**(9 - res) if res <= 9 else ts // 10**(res - 9)
            out.append((ns, cl, wl, bytes(body[20:20 + cl])))
        off += ln
    return (ifs[0][0] if ifs else 0), out
