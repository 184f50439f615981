#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""pcapcmp.py MERGED PART...: MERGED holds exactly the records of the PARTs
(time stamp, lengths and bytes compared record by record, as a multiset),
in non-decreasing time order. Prints the counts; exit 1 on a difference."""
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "extract"))
from pcaputil import read_capture  # noqa: E402


def main():
    merged = read_capture(sys.argv[1])[1]
    parts = [read_capture(p)[1] for p in sys.argv[2:]]
    times = [r[0] for r in merged]
    if times != sorted(times):
        print("FAIL: merged records are not in time order")
        return 1
    want = collections.Counter(r for p in parts for r in p)
    got = collections.Counter(merged)
    print(f"merged {len(merged)} records, parts {[len(p) for p in parts]}")
    if want != got:
        print(f"FAIL: {sum((want - got).values())} records missing, "
              f"{sum((got - want).values())} extra")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
