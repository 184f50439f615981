#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Differential test of `capture-appliance extract` against
`tcpdump -r FILE EXPR` + a time cut + a k-way merge, over rotated captures
of mixed traffic: pcap (ns and us), pcapng, raw IP; files with an index,
without, with a damaged index (table, Bloom filter) and a stale one.
Every answer must be identical record for record (time, lengths, bytes).

  diff.py CAPTURE_APPLIANCE
"""
import heapq
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402
from pcaputil import read_capture  # noqa: E402

CA = sys.argv[1]
T0 = 1764748800 * 10**9  # 2025-12-03T08:00:00Z
S = 10**9


def host4(h):
    return "10.%d.%d.%d" % ((h >> 8) & 255, h & 255, 1 + h % 7)


def host6(h):
    return "2001:db8::%x" % h


EXPRS = [
    "", "host %s" % host4(100), "host %s or host %s" % (host4(100), host4(262)),
    "src host %s and dst port 53" % host4(7), "net %s.0/24" % host4(100).rsplit(".", 1)[0],
    "net 10.1.0.0/16", "net 192.168.0.0/16", "net 10.0.0.0/8", "port 53", "tcp port 80",
    "udp port 53 or tcp port 443", "portrange 1000-2000", "ip proto 47", "ip6 proto 17",
    "ip6 host %s" % host6(31), "host %s" % host6(258), "vlan 100", "vlan 200 and host %s" % host4(100),
    "vlan and udp", "vlan 10 and vlan 100", "vlan 20 and vlan 200 and port 53", "arp",
    "arp host %s" % host4(100), "udp", "tcp", "icmp", "len > 100", "ip[2:2] > 500",
    "ip[6:2] & 0x1fff != 0", "not host %s" % host4(100), "not port 53",
    "host %s and not port 53" % host4(262), "ether host 02:00:00:00:00:01", "greater 1000",
    "less 80", "ip6 and tcp", "sctp", "ip and tcp[13] & 2 != 0", "ip6 proto 44",
    "host %s or udp" % host4(100), "ether[12:2] = 0x0800 and ether[26:4] = 0x0a006403",
    "ip[12:4] = 0x0a006403", "port 53 and host %s" % host4(5), "tcp dst port 443 and net 10.0.0.0/8",
    "ip host %s and tcp" % host4(100), "vlan 4095 or vlan 7", "host 192.168.1.1 or port 8080",
    "vlan 100 or host %s" % host4(262), "(host %s and port 53) or (host %s and port 80)" % (host4(5), host4(6)),
    "dst net 10.0.0.0/8 and src port 443", "tcp[tcpflags] & tcp-syn != 0", "ether proto 0x86dd",
    "icmp6", "ip multicast", "ip6 and udp port 123", "vlan 300 and ip6 host %s" % host6(100),
]
RAW_EXPRS = ["", "host %s" % host4(100), "port 53", "ip6 host %s" % host6(31), "udp",
             "ip proto 47", "len > 100", "net 10.1.0.0/16", "not tcp"]


def run(args, ok=(0,)):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in ok:
        sys.exit("FAIL: %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()))
    return p


def make(d):
    """The captures: returns ([prefix files in order], other file, raw file)."""
    specs = [  # name, start s, end s, format, index
        ("cap-00000001-20251203T080000.000000000Z.pcap", 0, 60, "pcap", "ok"),
        ("cap-00000002-20251203T080100.000000000Z.pcap", 60, 120, "pcap-us", "ok"),
        ("cap-00000003-20251203T080155.000000000Z.pcapng", 115, 180, "pcapng", "ok"),
        ("cap-00000004-20251203T080300.000000000Z.pcap", 180, 240, "pcap", None),
        ("cap-00000005-20251203T080400.000000000Z.pcap", 240, 300, "pcap", "damaged"),
        ("cap-00000006-20251203T080500.000000000Z.pcap", 300, 360, "pcap", "stale"),
        ("cap-00000007-20251203T080600.000000000Z.pcap", 360, 420, "pcap", "bloom"),
        ("cap-00000008-20251203T080700.000000000Z.pcapng", 420, 480, "pcapng", "cut"),
        # two sections: blocks can't be read alone (the whole file or nothing)
        ("cap-00000009-20251203T080800.000000000Z.pcapng", 480, 540, "pcapng", "sections"),
    ]
    files = []
    for i, (name, a, b, fmt, ix) in enumerate(specs):
        g = gen.Gen(10 + i, 600, "eth")
        recs = gen.records(g, T0 + a * S, T0 + b * S, 4000)
        if i == 0:  # a few records out of time order
            for k in range(100, 4000, 500):
                recs[k], recs[k + 7] = recs[k + 7], recs[k]
        path = os.path.join(d, name)
        if ix == "stale":  # indexed when it had fewer records
            gen.write(path, fmt, "eth", recs[:3000])
            run([CA, "extract", "--reindex", "-r", path])
        gen.write(path, fmt, "eth", recs)
        if ix == "sections":
            gen.write(path + ".2", fmt, "eth", recs[2000:])
            gen.write(path, fmt, "eth", recs[:2000])
            with open(path, "ab") as f, open(path + ".2", "rb") as g2:
                f.write(g2.read())
            os.unlink(path + ".2")
            run([CA, "extract", "--reindex", "-r", path])
        if ix == "cut":  # the live file: its last record half written
            with open(path, "ab") as f:
                f.write(struct.pack("<III", 6, 400, 0) + b"\1" * 40)
        if ix in ("ok", "damaged", "bloom"):
            run([CA, "extract", "--reindex", "-r", path])
        if ix == "damaged":  # a byte of the block table
            with open(path + ".idx", "r+b") as f:
                f.seek(96 + 48 * 3 + 9)
                c = f.read(1)
                f.seek(-1, 1)
                f.write(bytes([c[0] ^ 0x40]))
        if ix == "bloom":  # every Bloom filter's first bytes zeroed: would skip everything
            with open(path + ".idx", "r+b") as f:
                hdr = f.read(96)
                nblocks = struct.unpack_from("<I", hdr, 72)[0]
                boff = struct.unpack_from("<Q", hdr, 80)[0]
                size = os.fstat(f.fileno()).st_size
                f.seek(boff)
                f.write(b"\0" * (size - boff))
                assert nblocks > 1
        files.append(path)
    other = os.path.join(d, "other.pcap")
    g = gen.Gen(99, 600, "eth")
    gen.write(other, "pcap", "eth", gen.records(g, T0 + 30 * S, T0 + 90 * S, 3000))
    run([CA, "extract", "--reindex", "-r", other])
    raw = os.path.join(d, "raw.pcap")
    g = gen.Gen(77, 600, "raw")
    gen.write(raw, "pcap", "raw", gen.records(g, T0, T0 + 60 * S, 4000))
    run([CA, "extract", "--reindex", "-r", raw])
    return files, other, raw


def reference(d, files, expr, cache):
    out = []
    for i, f in enumerate(files):
        key = (f, expr)
        if key not in cache:
            o = os.path.join(d, "ref.pcap")
            # tcpdump too keeps the records before a cut one, and fails
            p = run(["tcpdump", "-r", f, "-w", o, "--time-stamp-precision=nano"] + ([expr] if expr else []),
                    ok=(0, 1))
            assert p.returncode == 0 or b"truncated" in p.stderr, p.stderr
            cache[key] = read_capture(o)[1]
        out.append(cache[key])
    return out


def cut_merge(per_file, lo, hi):
    def cut(recs):
        return [r for r in recs if (lo is None or r[0] >= lo) and (hi is None or r[0] < hi)]
    return list(heapq.merge(*[cut(r) for r in per_file], key=lambda r: r[0]))


def fmt_t(ns, rfc):
    if rfc:
        import datetime
        sec, frac = divmod(ns, S)
        t = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S") + (".%09d" % frac).rstrip("0").rstrip(".") + "Z"
    sec, frac = divmod(ns, S)
    return "%d.%09d" % (sec, frac)


def main():
    d = tempfile.mkdtemp(prefix="extract-diff-")
    try:
        files, other, raw = make(d)
        prefix = os.path.join(d, "cap")
        cache = {}
        comparisons = records = stats_checked = 0
        some = reference(d, files, "", cache)
        t_rec = some[1][1234][0]  # a record's exact time: from is inclusive, to exclusive
        windows = [
            (None, None), (T0 + 30 * S + S // 2, T0 + 75 * S + S // 4), (T0 + 117 * S, T0 + 119 * S),
            (T0 + 1000 * S, T0 + 1001 * S), (T0 + 59999 * S // 1000, T0 + 60001 * S // 1000),
            (t_rec, t_rec + 5 * S), (t_rec - 5 * S, t_rec), (T0 + 250 * S, None), (None, T0 + 10 * S),
            (T0 + 295 * S, T0 + 365 * S), (T0 + 100 * S, T0 + 100 * S),
        ]
        inputs = files + [other]
        for n, expr in enumerate(EXPRS):
            per_file = reference(d, inputs, expr, cache)
            for w, (lo, hi) in enumerate(windows):
                args = [CA, "extract", "--stats", "-r", prefix, "-r", other, "-w", "-"]
                rfc = (n + w) % 2 == 0
                if lo is not None:
                    args += ["--from", fmt_t(lo, rfc)]
                if hi is not None:
                    args += ["--to", fmt_t(hi, rfc)]
                ng = (n + w) % 5 == 0
                if ng:
                    args += ["--format", "pcapng"]
                noidx = (n * 7 + w) % 11 == 0
                if noidx:
                    args += ["--no-index"]
                if expr:
                    args.append(expr)
                p = run(args)
                got = read_capture(p.stdout)[1]
                want = cut_merge(per_file, lo, hi)
                comparisons += 1
                records += len(want)
                if got != want:
                    print("DISAGREE: %r window %r..%r%s%s: %d records, want %d" %
                          (expr, lo, hi, " pcapng" if ng else "", " no-index" if noidx else "",
                           len(got), len(want)))
                    for i, (a, b) in enumerate(zip(got, want)):
                        if a != b:
                            print("  first difference at %d: got %r want %r" % (i, a[:3], b[:3]))
                            break
                    sys.exit(1)
                err = p.stderr.decode()
                st = dict(kv.split("=") for kv in err.strip().splitlines()[-1].split()[1:])
                if not noidx:
                    # the damaged and the stale index are ignored, each with a word why
                    assert st["index_ignored"] == "2", err
                    assert st["files_cut"] == "1" or hi is not None and hi <= T0 + 420 * S, err
                    assert st["files_indexed"] == "6", err  # 5 of cap, other.pcap
                    assert "stale" in err and "damaged" in err, err
                    stats_checked += 1
                if expr == "host %s" % host4(100) and (lo, hi) == (None, None) and not noidx:
                    assert int(st["blocks_skipped"]) > 0, err  # the index narrowed it
        # raw IP files on their own (a pcap holds one link type)
        for expr in RAW_EXPRS:
            per_file = reference(d, [raw], expr, cache)
            for lo, hi in [(None, None), (T0 + 10 * S, T0 + 20 * S + 3)]:
                args = [CA, "extract", "-r", raw, "-w", "-"]
                if lo is not None:
                    args += ["--from", fmt_t(lo, False), "--to", fmt_t(hi, True)]
                p = run(args + ([expr] if expr else []))
                lt, got = read_capture(p.stdout)
                assert lt == 101, lt
                want = cut_merge(per_file, lo, hi)
                comparisons += 1
                records += len(want)
                if got != want:
                    sys.exit("DISAGREE (raw): %r %r..%r: %d records, want %d" % (expr, lo, hi, len(got), len(want)))
        # mixed link types: pcap refuses, pcapng holds both
        p = run([CA, "extract", "-r", raw, "-r", files[0], "-w", "-"], ok=(1,))
        assert b"pcapng" in p.stderr, p.stderr
        p = run([CA, "extract", "-r", raw, "-r", files[0], "-w", "-", "--format", "pcapng", "udp"])
        got = read_capture(p.stdout)[1]
        want = cut_merge(reference(d, [raw, files[0]], "udp", cache), None, None)
        comparisons += 1
        assert got == want, "mixed link types disagree"
        # -w - into tcpdump -r -
        p1 = subprocess.Popen([CA, "extract", "-r", prefix, "-w", "-", "port 53"], stdout=subprocess.PIPE)
        p2 = subprocess.run(["tcpdump", "-n", "-r", "-"], stdin=p1.stdout, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
        p1.stdout.close()
        assert p1.wait() == 0 and p2.returncode == 0
        want = cut_merge(reference(d, files, "port 53", cache), None, None)
        assert len(p2.stdout.splitlines()) == len(want) > 0
        comparisons += 1
        # a refused expression: libpcap's message, exit 2, OUT not created
        out = os.path.join(d, "never.pcap")
        p = run([CA, "extract", "-r", prefix, "-w", out, "host and and"], ok=(2,))
        assert b"syntax error" in p.stderr and not os.path.exists(out), p.stderr
        for bad in ["ip host %s and ip6" % host4(100), "port 53 and vlan", "ip6 host 10.0.0.1"]:
            tp = run(["tcpdump", "-r", files[0], "-w", os.devnull, bad], ok=(1,))
            msg = tp.stderr.decode().strip().splitlines()[-1].replace("tcpdump: ", "")
            p = run([CA, "extract", "-r", prefix, "-w", out, bad], ok=(2,))
            assert msg in p.stderr.decode() and not os.path.exists(out), (msg, p.stderr)
            comparisons += 1
        p = run([CA, "extract", "-r", prefix, "-w", out, "--from", "2025-13-01T00:00:00Z"], ok=(2,))
        assert not os.path.exists(out)
        p = run([CA, "extract", "-r", os.path.join(d, "nothing"), "-w", out], ok=(2,))
        assert b"no such file or dump prefix" in p.stderr
        # -w FILE: the same bytes as -w -
        run([CA, "extract", "-r", prefix, "-w", out, "--from", fmt_t(T0 + 100 * S, True), "tcp"])
        p = run([CA, "extract", "-r", prefix, "-w", "-", "--from", fmt_t(T0 + 100 * S, False), "tcp"])
        with open(out, "rb") as f:
            assert f.read() == p.stdout
        comparisons += 1
        # a device is written in place, never replaced; a symlink is refused
        import stat as st_
        run([CA, "extract", "-r", prefix, "-w", os.devnull, "udp"])
        assert st_.S_ISCHR(os.stat(os.devnull).st_mode), "/dev/null replaced"
        link = os.path.join(d, "link.pcap")
        target = os.path.join(d, "target.pcap")
        os.symlink(target, link)
        p = run([CA, "extract", "-r", prefix, "-w", link, "udp"], ok=(1,))
        assert b"symbolic link" in p.stderr and not os.path.exists(target), p.stderr
        # --reindex repairs the damaged and the stale index
        # (the cut file can't be indexed: said so, the others are done)
        p = run([CA, "extract", "--reindex", "-r", prefix], ok=(1,))
        assert p.stderr.count(b"truncated") == 1, p.stderr
        p = run([CA, "extract", "--stats", "-r", prefix, "-w", "-", "host %s" % host4(100)])
        assert "index_ignored=0" in p.stderr.decode(), p.stderr
        got = read_capture(p.stdout)[1]
        assert got == cut_merge(reference(d, files, "host %s" % host4(100), cache), None, None)
        comparisons += 1
        print("extract differential: %d comparisons, %d records compared, %d index checks, 0 disagreements"
              % (comparisons, records, stats_checked))
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
