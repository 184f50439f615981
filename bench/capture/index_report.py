#!/usr/bin/env python3
"""The indexing benchmark's table (run.sh --index): per round, each variant's
lossless rate as lossless_search found it (the highest offered rate whose
runs lost at most 0.1 % in the median; ">=" when that was the generator's top
rate), the ratios to indexing off within the same round (side by side), and
the medians over the rounds.

  index_report.py --points points.jsonl --start T --rotate SIZE --out index.md
"""
import argparse
import json
import statistics
from collections import defaultdict

LIMIT = 0.1
VARIANTS = [("appliance-noindex", "indexing off (start --no-index)"),
            ("appliance-index", "indexing on (default)"),
            ("appliance-query", "indexing on + an extraction looping")]


def search_result(points):
    """(rate, at_top, tried) of one lossless search: its points by target rate."""
    by_rate = defaultdict(list)
    for p in points:
        by_rate[p["target_pps"]].append(p)
    best, top, tried = None, False, []
    for target, ps in by_rate.items():
        if any(p["loss_pct"] is None for p in ps):
            continue
        loss = statistics.median(p["loss_pct"] for p in ps)
        off = statistics.median(p["offered_pps"] for p in ps)
        tried.append((off, loss))
        if loss <= LIMIT and (best is None or off > best):
            best, top = off, target == 0
    return best, top, sorted(tried)


def fmt_rate(r, top):
    return "none" if r is None else ("%s%.3f M" % (">= " if top else "", r / 1e6))


def ladder(path):
    """The side-by-side phase (group index-ladder): at each fixed offered
    rate, the variants one after the other, several times; median loss per
    variant and rate, and how many runs lost nothing above LIMIT."""
    pts = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
    pts = [p for p in pts if p.get("group") == "index-ladder" and p["loss_pct"] is not None]
    if not pts:
        return []
    rates = sorted({p["target_pps"] for p in pts})
    out = ["", "Side by side at fixed offered rates (the variants one after the other at each "
           "rate, %d rounds): median loss, and runs within %.1f %% of none"
           % (max(p["rep"] for p in pts), LIMIT), "",
           "| offered | " + " | ".join(d for _, d in VARIANTS) + " |",
           "|---|" + "---|" * len(VARIANTS)]
    for r in rates:
        cells = []
        for tool, _ in VARIANTS:
            ps = [p for p in pts if p["target_pps"] == r and p["tool"] == tool]
            if not ps:
                cells.append("-")
                continue
            ok = sum(p["loss_pct"] <= LIMIT for p in ps)
            cells.append("%.2f %% (%d/%d lossless)" % (
                statistics.median(p["loss_pct"] for p in ps), ok, len(ps)))
        out.append("| %.0f k/s | %s |" % (r / 1e3, " | ".join(cells)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", required=True)
    ap.add_argument("--start", default="")
    ap.add_argument("--rotate", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    pts = [json.loads(l) for l in open(a.points) if l.strip().startswith("{")]
    pts = [p for p in pts if p.get("group", "").startswith("index-r")]
    rounds = sorted({p["group"] for p in pts}, key=lambda g: int(g[7:]))
    res = {}  # (round, tool) -> (rate, top, tried)
    queries = defaultdict(list)
    for g in rounds:
        for tool, _ in VARIANTS:
            ps = [p for p in pts if p["group"] == g and p["tool"] == tool]
            if ps:
                res[g, tool] = search_result(ps)
            for p in ps:
                note = p.get("note") or ""
                if "queries done" in note:
                    n = int(note.split(" queries done")[0].split("; ")[-1])
                    queries[tool].append((n, p["gen_seconds"]))
    loads = [p["loadavg"] for p in pts]
    size = pts[0]["size"] if pts else 0
    out = []
    out.append("Capture with indexing on vs off, and with a query running (run.sh --index, %s)"
               % a.start)
    out.append("")
    out.append("%d B frames, filter udp, snaplen %d, rotation every %s, %d frames per point; "
               "lossless = median loss <= %.1f %% over the runs at one rate; load average "
               "%.1f-%.1f during the run." % (size, pts[0]["snaplen"] if pts else 0, a.rotate,
                                             pts[0]["count"] if pts else 0, LIMIT,
                                             min(loads or [0]), max(loads or [0])))
    out.append("")
    out.append("| round | " + " | ".join(d for _, d in VARIANTS) + " | on / off | query / off |")
    out.append("|---|" + "---|" * (len(VARIANTS) + 2))
    ratios = defaultdict(list)
    for g in rounds:
        cells = []
        for tool, _ in VARIANTS:
            r = res.get((g, tool))
            cells.append(fmt_rate(r[0], r[1]) if r else "-")
        rs = []
        for tool in ("appliance-index", "appliance-query"):
            off, on = res.get((g, "appliance-noindex")), res.get((g, tool))
            if off and on and off[0] and on[0]:
                ratios[tool].append(on[0] / off[0])
                rs.append("%.3f" % (on[0] / off[0]))
            else:
                rs.append("-")
        out.append("| %s | %s | %s |" % (g[7:], " | ".join(cells), " | ".join(rs)))
    med = []
    for tool, _ in VARIANTS:
        v = [res[g, tool][0] for g in rounds if (g, tool) in res and res[g, tool][0]]
        med.append("%.3f M" % (statistics.median(v) / 1e6) if v else "-")
    mr = ["%.3f" % statistics.median(ratios[t]) if ratios[t] else "-"
          for t in ("appliance-index", "appliance-query")]
    out.append("| **median** | %s | **%s** | **%s** |" % (" | ".join(med), mr[0], mr[1]))
    out.append("")
    for tool, desc in VARIANTS:
        for g in rounds:
            r = res.get((g, tool))
            if r:
                out.append("- %s, round %s: %s" % (desc, g[7:], ", ".join(
                    "%.3f M: %.2f %%" % (o / 1e6, l) for o, l in r[2])))
    if queries["appliance-query"]:
        n = sum(q for q, _ in queries["appliance-query"])
        s = sum(t for _, t in queries["appliance-query"])
        out.append("")
        out.append("Queries finished during the query variant's points: %d in %.0f s of traffic "
                   "(each a full scan of every file captured so far)." % (n, s))
    out += ladder(a.points)
    text = "\n".join(out) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
