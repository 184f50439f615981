#!/usr/bin/env python3
"""Prints "DSTPORT SEQ" for each IPv4/UDP record of a pcap file (SEQ: the
first 4 payload bytes, as tests/api/lib.sh api_send writes them), one line
per record; exits 1 on a malformed file (bad magic, cut record)."""
import struct
import sys

data = open(sys.argv[1], "rb").read()
if len(data) < 24:
    sys.exit("pcap_seqs: no pcap header")
magic = data[:4]
if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
    e = "<"
elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
    e = ">"
else:
    sys.exit("pcap_seqs: bad magic")
off = 24
while off < len(data):
    if off + 16 > len(data):
        sys.exit("pcap_seqs: cut record header")
    incl = struct.unpack_from(e + "I", data, off + 8)[0]
    rec = data[off + 16:off + 16 + incl]
    if len(rec) != incl:
        sys.exit("pcap_seqs: cut record")
    off += 16 + incl
    if len(rec) >= 14 + 20 + 8 + 4 and rec[12:14] == b"\x08\x00" and rec[23] == 17:
        ihl = (rec[14] & 15) * 4
        dport = struct.unpack_from("!H", rec, 14 + ihl + 2)[0]
        seq = struct.unpack_from("!I", rec, 14 + ihl + 8)[0]
        print(dport, seq)
    else:
        print("other -")
