#!/usr/bin/env python3
"""index_report.py's arithmetic on made-up points: a search's lossless rate
is the highest rate whose median loss is <= 0.1 % (">=" when the max-rate
probe was lossless, "none" when no rate was), ratios to indexing off are
taken within a round, medians over rounds, and the side-by-side table counts
lossless runs per rate."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def pt(group, tool, target, offered_pps, loss, rep=1):
    return dict(group=group, tool=tool, size=1514, snaplen=262144, count=1000,
                target_pps=target, offered_pps=offered_pps, loss_pct=loss, rep=rep,
                gen_seconds=1.0, loadavg=1.0, note=None)


def search(group, tool, sets):
    """sets: [(target, offered, [losses])]"""
    out = []
    for target, off, losses in sets:
        out += [pt(group, tool, target, off, l, i + 1) for i, l in enumerate(losses)]
    return out


points = []
# round 1: off lossless up to 100 k (median of 0, 0.05, 5 = 0.05), on up to 90 k,
# query: no lossless rate at all
points += search("index-r1", "appliance-noindex",
                 [(0, 900e3, [50, 50, 50]), (200e3, 200e3, [9, 9, 9]),
                  (100e3, 100e3, [0, 0.05, 5]), (141e3, 141e3, [0.2, 0.3, 0])])
points += search("index-r1", "appliance-index",
                 [(0, 900e3, [50, 50, 50]), (180e3, 180e3, [9, 9, 9]),
                  (90e3, 90e3, [0, 0, 0]), (127e3, 127e3, [0.5, 0.5, 0.5])])
points += search("index-r1", "appliance-query", [(0, 900e3, [50, 50, 50]),
                                                  (50e3, 50e3, [1, 1, 1])])
# round 2: every variant lossless at the generator's top rate
for tool, off in (("appliance-noindex", 400e3), ("appliance-index", 380e3),
                  ("appliance-query", 420e3)):
    points += search("index-r2", tool, [(0, off, [0, 0, 0.01])])
# the side-by-side phase, and a point of another benchmark that must be ignored
for tool, losses in (("appliance-noindex", [0, 0, 0.3]), ("appliance-index", [0.2, 0.4, 0]),
                     ("appliance-query", [1, 2, 3])):
    points += [pt("index-ladder", tool, 70e3, 70e3, l, i + 1) for i, l in enumerate(losses)]
points.append(pt("lossless", "appliance-index", 0, 5e6, 0))

with tempfile.TemporaryDirectory() as d:
    src = os.path.join(d, "points.jsonl")
    md = os.path.join(d, "index.md")
    with open(src, "w") as f:
        f.write("".join(json.dumps(p) + "\n" for p in points))
    subprocess.run([sys.executable, os.path.join(HERE, "index_report.py"), "--points", src,
                    "--rotate", "16M", "--out", md], check=True, stdout=subprocess.DEVNULL)
    text = open(md).read()

want = [
    "| 1 | 0.100 M | 0.090 M | none | 0.900 | - |",
    "| 2 | >= 0.400 M | >= 0.380 M | >= 0.420 M | 0.950 | 1.050 |",
    "| **median** | 0.250 M | 0.235 M | 0.420 M | **0.925** | **1.050** |",
    "| 70 k/s | 0.00 % (2/3 lossless) | 0.20 % (1/3 lossless) | 2.00 % (0/3 lossless) |",
]
bad = [w for w in want if w not in text]
if bad or "5.000 M" in text:
    print(text)
    sys.exit("FAIL: missing or wrong lines:\n" + "\n".join(bad))
print("PASS: lossless rates, >= at the top rate, none, per-round ratios, medians, side by side")
