#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""pcapcmp.py [--bytes] MERGED PART...: MERGED holds exactly the records of
the PARTs (time stamp, lengths and bytes compared record by record, as a
multiset; with --bytes the frames' bytes only, e.g. against what a sender
wrote), in non-decreasing time order. Prints the counts; exit 1 on a
difference."""
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "extract"))
from pcaputil import read_capture  # noqa: E402


def main():
    args = sys.argv[1:]
    only_bytes = args[0] == "--bytes"
    if only_bytes:
        args = args[1:]
    merged = read_capture(args[0])[1]
    parts = [read_capture(p)[1] for p in args[1:]]
    times = [r[0] for r in merged]
    if times != sorted(times):
        print("FAIL: merged records are not in time order")
        return 1
    key = (lambda r: r[3]) if only_bytes else (lambda r: r)
    want = collections.Counter(key(r) for p in parts for r in p)
    got = collections.Counter(key(r) for r in merged)
    print(f"merged {len(merged)} records, parts {[len(p) for p in parts]}")
    if want != got:
        print(f"FAIL: {sum((want - got).values())} records missing, "
              f"{sum((got - want).values())} extra")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
