#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Time machine benchmark: `capture-appliance extract` vs `tcpdump -r` over
every rotated file, on >= 2 GB of generated captures (mixed traffic, many
hosts, IPv4/IPv6, VLAN tags). Not a ctest test: speed, not correctness.

  bench.py [--bin build/cli/capture-appliance] [--dir /var/tmp/ca-extract-bench]
           [--gb 2.2] [--files 20] [--runs 5] [--hosts 2000]

Prints, side by side (medians of interleaved runs):
  1. one host's packets over a 10-s window: extract vs tcpdump -r of every file
  2. `udp` over everything (the index can't skip): extract vs tcpdump -r
  3. the index size as % of the pcap bytes, and the indexing time
"""
import argparse
import os
import random
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "extract"))
import gen  # noqa: E402
from pcaputil import read_capture  # noqa: E402

T0 = 1796284800  # 2026-12-03T08:00:00Z
SPAN = 180       # seconds per rotated file


def name(d, i):
    t = time.gmtime(T0 + i * SPAN)
    return os.path.join(d, "cap-%08d-%s.000000000Z.pcap" % (i + 1, time.strftime("%Y%m%dT%H%M%S", t)))


def make_file(path, i, size, hosts):
    """~size bytes of records over [T0 + i*SPAN, +SPAN): frames drawn from a
    pool made for this file (fresh hosts mix per file, fast to write)."""
    g = gen.Gen(1000 + i, hosts, "eth")
    pool = [g.frame() for _ in range(40000)]
    r = random.Random(i)
    avg = sum(len(f) for f in pool) / len(pool) + 16
    n = int(size / avg)
    start = (T0 + i * SPAN) * 10**9
    step = SPAN * 10**9 / n
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        buf = []
        for k in range(n):
            fr = pool[r.randrange(len(pool))]
            sec, ns = divmod(int(start + k * step), 10**9)
            buf.append(struct.pack("<IIII", sec, ns, len(fr), len(fr)))
            buf.append(fr)
            if len(buf) > 20000:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))
    os.rename(tmp, path)


def timed(args, **kw):
    t = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t


# Outputs go to stdout = /dev/null opened by us: `tcpdump -w /dev/null`
# would chown the device to the tcpdump user.
def tcpdump_all(files, expr):
    t = time.perf_counter()
    for f in files:
        subprocess.run(["tcpdump", "-r", f, "-w", "-", expr], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "..", "build", "cli", "capture-appliance"))
    ap.add_argument("--dir", default="/var/tmp/ca-extract-bench")
    ap.add_argument("--gb", type=float, default=2.2)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hosts", type=int, default=2000)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    per = int(a.gb * 1e9 / a.files)
    files = [name(a.dir, i) for i in range(a.files)]
    t = time.perf_counter()
    for i, f in enumerate(files):
        if not os.path.exists(f) or abs(os.path.getsize(f) - per) > per * 0.05:
            make_file(f, i, per, a.hosts)
    total = sum(os.path.getsize(f) for f in files)
    print("captures: %d files, %.2f GB, %d s each (generated/checked in %.0f s)"
          % (len(files), total / 1e9, SPAN, time.perf_counter() - t))
    prefix = os.path.join(a.dir, "cap")
    for f in files:
        try:
            os.unlink(f + ".idx")
        except FileNotFoundError:
            pass
    for f in files:  # into the page cache, as a just-written capture is
        subprocess.run(["cat", f], stdout=subprocess.DEVNULL, check=True)
    ti = timed([a.bin, "extract", "--reindex", "-r", prefix])
    isize = sum(os.path.getsize(f + ".idx") for f in files)
    print("index: %.1f MB = %.2f %% of the pcap bytes; built in %.1f s (%.0f MB/s, one thread)"
          % (isize / 1e6, 100.0 * isize / total, ti, total / 1e6 / ti))

    host = "10.%d.%d.%d" % ((123 >> 8) & 255, 123 & 255, 1 + 123 % 7)
    hexpr = "host " + host
    lo = T0 + 5 * SPAN + 37
    win = ["--from", "%d.25" % lo, "--to", "%d.25" % (lo + 10)]
    # the answers agree (once, outside the timing)
    p = subprocess.run([a.bin, "extract", "-r", prefix, "-w", "-"] + win + [hexpr],
                       stdout=subprocess.PIPE, check=True)
    got = read_capture(p.stdout)[1]
    want = []
    for f in files:
        q = subprocess.run(["tcpdump", "-r", f, "-w", "-", "--time-stamp-precision=nano", hexpr],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
        want += [r for r in read_capture(q.stdout)[1]
                 if (lo * 10**9 + 250000000) <= r[0] < ((lo + 10) * 10**9 + 250000000)]
    assert got == sorted(want, key=lambda r: r[0]), "answers differ"
    print("host query: %s, 10 s window: %d records (same as tcpdump -r + time cut)" % (hexpr, len(got)))

    res = {k: [] for k in ("tcpdump host", "extract host", "tcpdump udp", "extract udp",
                           "extract host all")}
    for r in range(a.runs):  # interleaved: the machine is shared and noisy
        res["tcpdump host"].append(tcpdump_all(files, hexpr))
        res["extract host"].append(timed([a.bin, "extract", "-r", prefix, "-w", "-"] + win + [hexpr]))
        res["extract udp"].append(timed([a.bin, "extract", "-r", prefix, "-w", "-", "udp"]))
        res["tcpdump udp"].append(tcpdump_all(files, "udp"))
        res["extract host all"].append(timed([a.bin, "extract", "-r", prefix, "-w", "-", hexpr]))
    med = {k: statistics.median(v) for k, v in res.items()}
    print("\n%-34s %12s %12s %9s" % ("query (median of %d runs)" % a.runs, "tcpdump -r", "extract", "speed-up"))
    print("%-34s %10.3f s %10.3f s %8.1fx" % ("host, 10-s window", med["tcpdump host"], med["extract host"],
                                               med["tcpdump host"] / med["extract host"]))
    print("%-34s %10.3f s %10.3f s %8.2fx" % ("udp, everything", med["tcpdump udp"], med["extract udp"],
                                               med["tcpdump udp"] / med["extract udp"]))
    print("%-34s %10.3f s %10.3f s %8.1fx" % ("host, everything (Bloom only)", med["tcpdump host"],
                                               med["extract host all"],
                                               med["tcpdump host"] / med["extract host all"]))
    for k, v in res.items():
        print("  %-14s runs: %s" % (k, " ".join("%.3f" % x for x in v)))
    st = subprocess.run([a.bin, "extract", "--stats", "-r", prefix, "-w", "-"] + win + [hexpr],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True).stderr.decode().strip().splitlines()[-1]
    print("host query counters: " + st)
    st = subprocess.run([a.bin, "extract", "--stats", "-r", prefix, "-w", "-", hexpr],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True).stderr.decode().strip().splitlines()[-1]
    print("host, everything:    " + st)


if __name__ == "__main__":
    main()
