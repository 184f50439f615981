#!/usr/bin/env python3
"""Checks a capture file against the frames send.py says it sent.

  pcapcheck.py CAPTURE.pcap [--expect SENT.pcap ...] [checks...]

Always checked: nanosecond pcap magic, Ethernet link type, every record
complete (no torn record at the end), caplen <= wire length.
Records are matched to sent frames by the tag and sequence number send.py
puts at the start of every UDP payload; other records count as "other".

Exits 0 when every requested check holds, else 1 with one line per failure.
Prints a one-line summary in any case.
"""
import argparse
import struct
import sys

NS_MAGIC = 0xA1B23C4D
US_MAGIC = 0xA1B2C3D4


def read_pcap(path):
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 24:
        raise ValueError("%s: %d bytes, shorter than a pcap header" % (path, len(buf)))
    magic, = struct.unpack("<I", buf[:4])
    if magic not in (NS_MAGIC, US_MAGIC):
        raise ValueError("%s: bad magic 0x%08x" % (path, magic))
    _, _, _, _, snaplen, linktype = struct.unpack("<HHiIII", buf[4:24])
    scale = 1 if magic == NS_MAGIC else 1000
    recs, off = [], 24
    while off < len(buf):
        if off + 16 > len(buf):
            raise ValueError("%s: torn record header at offset %d" % (path, off))
        sec, frac, caplen, wirelen = struct.unpack("<IIII", buf[off:off + 16])
        if off + 16 + caplen > len(buf):
            raise ValueError("%s: torn record data at offset %d" % (path, off))
        data = buf[off + 16:off + 16 + caplen]
        recs.append((sec * 10**9 + frac * scale, caplen, wirelen, data))
        off += 16 + caplen
    return {"magic": magic, "snaplen": snaplen, "linktype": linktype, "recs": recs}


def key_of(data):
    """(tag, seq) of a send.py frame, or None."""
    if len(data) >= 52 and data[12:14] == b"\x08\x00" and data[23] == 17 \
            and data[42:46] == b"ITCA":
        tag, _flow, seq = struct.unpack("!BBI", data[46:52])
        return (tag, seq)
    return None


def mac(data, off):
    return ":".join("%02x" % b for b in data[off:off + 6])


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("capture")
    p.add_argument("--expect", action="append", default=[],
                   help="pcap of sent frames (send.py --expect); repeatable")
    p.add_argument("--all-captured", action="store_true",
                   help="every expected frame is in the capture exactly once")
    p.add_argument("--none-captured", action="store_true",
                   help="no expected frame is in the capture")
    p.add_argument("--no-other", action="store_true",
                   help="no record that is not an expected frame")
    p.add_argument("--no-dup", action="store_true", help="no frame captured twice")
    p.add_argument("--count", type=int, help="exact number of records")
    p.add_argument("--headers", choices=["exact", "payload"], default="exact",
                   help="compare whole frames, or MACs + UDP payload only "
                        "(frames built by the kernel's UDP stack)")
    p.add_argument("--snaplen", type=int,
                   help="every caplen == min(wire length, N); header snaplen >= N")
    p.add_argument("--ts-per-src", action="store_true",
                   help="timestamps non-decreasing per source MAC (direction)")
    p.add_argument("--ts-near-sent", type=float, metavar="SECONDS",
                   help="each timestamp within SECONDS of the frame's send time")
    p.add_argument("--tag-suffix", type=int, metavar="TAG",
                   help="the captured frames of send.py tag TAG are a non-empty, "
                        "proper, gap-free suffix of those sent (capture switched "
                        "on mid-stream and lost nothing afterwards)")
    p.add_argument("--snaplen-switch", type=int, metavar="N",
                   help="in send order, frames are captured whole up to one point "
                        "and cut to N from there on (snaplen changed mid-stream)")
    p.add_argument("--tcp-stream", metavar="SPORT=BYTES",
                   help="the TCP segments from source port SPORT cover BYTES bytes of "
                        "payload after the SYN, without a hole, and each of their "
                        "records' wire length is 14 + the IPv4 total length")
    p.add_argument("--only-src", help="every record comes from this source MAC")
    p.add_argument("--min-from", action="append", default=[], metavar="MAC=N",
                   help="at least N records from source MAC")
    a = p.parse_args()

    fails = []
    try:
        cap = read_pcap(a.capture)
    except (OSError, ValueError) as e:
        print("pcapcheck: FAIL %s" % e)
        return 1
    if cap["magic"] != NS_MAGIC:
        fails.append("pcap magic is not the nanosecond one (0x%08x)" % cap["magic"])
    if cap["linktype"] != 1:
        fails.append("link type %d, want 1 (Ethernet)" % cap["linktype"])

    expected = {}
    for path in a.expect:
        for ts, _caplen, wirelen, data in read_pcap(path)["recs"]:
            expected[key_of(data)] = (ts, wirelen, data)

    seen, other, per_src, last_ts, bad = {}, 0, {}, {}, []
    cut = {}  # key -> caplen < wire length
    for i, (ts, caplen, wirelen, data) in enumerate(cap["recs"]):
        src = mac(data, 6) if caplen >= 12 else "?"
        per_src[src] = per_src.get(src, 0) + 1
        if caplen > wirelen:
            bad.append("record %d: caplen %d > wire length %d" % (i, caplen, wirelen))
        if a.snaplen is not None and caplen != min(wirelen, a.snaplen):
            bad.append("record %d: caplen %d, want min(wire %d, snaplen %d)"
                       % (i, caplen, wirelen, a.snaplen))
        if a.ts_per_src:
            if src in last_ts and ts < last_ts[src][0]:
                bad.append("record %d from %s: timestamp %d before record %d's %d"
                           % (i, src, ts, last_ts[src][1], last_ts[src][0]))
            last_ts[src] = (ts, i)
        k = key_of(data)
        if k is None or k not in expected:
            other += 1
            continue
        seen[k] = seen.get(k, 0) + 1
        cut[k] = (caplen, wirelen)
        ets, ewire, edata = expected[k]
        if wirelen != ewire:
            bad.append("frame %s: wire length %d, sent %d" % (k, wirelen, ewire))
        if a.headers == "exact":
            same = data == edata[:caplen]
        else:
            same = data[:12] == edata[:12] and data[42:] == edata[42:caplen]
        if not same:
            bad.append("frame %s: captured bytes differ from the bytes sent" % (k,))
        if a.ts_near_sent is not None and abs(ts - ets) > a.ts_near_sent * 1e9:
            bad.append("frame %s: timestamp %.6f s from its send time"
                       % (k, (ts - ets) / 1e9))
    fails += bad[:10]
    if len(bad) > 10:
        fails.append("... and %d more record failures" % (len(bad) - 10))

    missing = [k for k in expected if k not in seen]
    dups = sum(n - 1 for n in seen.values())
    if a.all_captured and missing:
        fails.append("%d of %d sent frames missing (first: %s)"
                     % (len(missing), len(expected), sorted(missing)[:5]))
    if (a.all_captured or a.no_dup) and dups:
        fails.append("%d frames captured more than once" % dups)
    if a.none_captured and seen:
        fails.append("%d sent frames captured, want none" % len(seen))
    if a.no_other and other:
        fails.append("%d records that are not frames sent by the test" % other)
    if a.count is not None and len(cap["recs"]) != a.count:
        fails.append("%d records, want %d" % (len(cap["recs"]), a.count))
    if a.tag_suffix is not None:
        sent = sorted(k[1] for k in expected if k and k[0] == a.tag_suffix)
        got = [q for q in sent if (a.tag_suffix, q) in seen]
        if not got:
            fails.append("tag %d: none of %d frames captured" % (a.tag_suffix, len(sent)))
        elif len(got) == len(sent):
            fails.append("tag %d: all %d frames captured, want only a suffix"
                         % (a.tag_suffix, len(sent)))
        else:
            gaps = [q for q in sent if q > got[0] and (a.tag_suffix, q) not in seen]
            if gaps:
                fails.append("tag %d: %d frames lost after the first captured one "
                             "(seq %d; lost %s)" % (a.tag_suffix, len(gaps), got[0], gaps[:5]))
        print("pcapcheck: tag %d: %d of %d captured, first seq %s"
              % (a.tag_suffix, len(got), len(sent), got[0] if got else "-"))
    if a.snaplen_switch is not None:
        n = a.snaplen_switch
        order = [cut[k] for k in sorted(k for k in cut if k)]
        # whole: caplen == wire; cut: caplen == min(wire, n). Frames no longer
        # than n are both, so they fit either side of the switch.
        state, switched, wrong = "whole", None, []
        for i, (c, w) in enumerate(order):
            whole, short = c == w, c == min(w, n)
            if not whole and not short:
                wrong.append(i)
            elif state == "whole" and not whole:
                state, switched = "cut", i
            elif state == "cut" and not short:
                wrong.append(i)
        if wrong:
            fails.append("snaplen switch: %d frames out of place (first index %d)"
                         % (len(wrong), wrong[0]))
        if switched is None or switched == 0:
            fails.append("snaplen switch: no frame captured whole before the switch "
                         "and cut after it (switch at %s)" % switched)
        print("pcapcheck: snaplen switch to %d after %s of %d frames" % (n, switched, len(order)))
    if a.tcp_stream:
        sport, nbytes = (int(x) for x in a.tcp_stream.split("="))
        isn, ivals, segs, big, badlen = None, [], 0, 0, 0
        for ts, caplen, wirelen, data in cap["recs"]:
            if caplen < 54 or data[12:14] != b"\x08\x00" or data[23] != 6:
                continue
            ihl = (data[14] & 15) * 4
            tot, = struct.unpack("!H", data[16:18])
            if caplen < 14 + ihl + 20:
                continue
            t = 14 + ihl
            sp, _dp, seq = struct.unpack("!HHI", data[t:t + 8])
            if sp != sport:
                continue
            flags, doff = data[t + 13], (data[t + 12] >> 4) * 4
            if wirelen != 14 + tot:
                badlen += 1
            if flags & 0x02:  # SYN
                isn = (seq + 1) & 0xFFFFFFFF
                continue
            plen = tot - ihl - doff
            if plen > 0:
                ivals.append((seq, plen))
                segs += 1
                big += wirelen > 1514
        if isn is None:
            fails.append("tcp stream from port %d: no SYN captured" % sport)
        else:
            spans = sorted(((s - isn) & 0xFFFFFFFF, ((s - isn) & 0xFFFFFFFF) + n) for s, n in ivals)
            covered, holes = 0, 0
            for lo, hi in spans:
                if lo > covered:
                    holes += 1
                covered = max(covered, hi)
            if covered != nbytes or holes:
                fails.append("tcp stream from port %d: payload covers %d bytes with %d holes, "
                             "sent %d" % (sport, covered, holes, nbytes))
            if badlen:
                fails.append("tcp stream from port %d: %d records whose wire length is not "
                             "14 + IPv4 total length" % (sport, badlen))
            print("pcapcheck: tcp stream from %d: %d segments (%d larger than 1514: GSO), "
                  "%d bytes covered" % (sport, segs, big, covered))
    if a.only_src:
        wrong = {m: n for m, n in per_src.items() if m != a.only_src.lower()}
        if wrong:
            fails.append("records from other sources than %s: %s" % (a.only_src, wrong))
    for spec in a.min_from:
        m, n = spec.rsplit("=", 1)
        if per_src.get(m.lower(), 0) < int(n):
            fails.append("%d records from %s, want at least %s"
                         % (per_src.get(m.lower(), 0), m, n))

    print("pcapcheck: %s records=%d sent=%d matched=%d missing=%d dup=%d other=%d "
          "snaplen=%d per_src=%s" % (a.capture, len(cap["recs"]), len(expected), len(seen),
                                     len(missing), dups, other, cap["snaplen"], per_src))
    # The header's snaplen is an upper bound (a running capture's snaplen may
    # be raised later), so it only has to cover the records and --snaplen.
    if a.snaplen is not None and cap["snaplen"] < a.snaplen:
        fails.append("file header snaplen %d, below %d" % (cap["snaplen"], a.snaplen))
    big = [c for _, c, _, _ in cap["recs"] if c > cap["snaplen"]]
    if big:
        fails.append("%d records longer than the header's snaplen %d"
                     % (len(big), cap["snaplen"]))
    for f in fails:
        print("pcapcheck: FAIL " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
