#!/usr/bin/env python3
"""Turns the benchmark's points (one JSON line each, from point.py) into
latest.json (meta, points, per-configuration medians, the goal check),
latest.md (tables) and latest.png (captured vs offered rate per tool)."""
import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

TOOLS = ["ceiling", "appliance", "appliance-host", "appliance-afxdp", "appliance-ringbuf",
         "appliance-transparent", "appliance-bidir", "tcpdump", "netsniff-ng", "xdpdump"]
# Issue 11's figures for the lossless rate of the appliance's default.
LL_SMALL_VS_TCPDUMP = 4.0
LL_SMALL_VS_CEILING = 0.7
LL_BIG_VS_TCPDUMP = 3.0
LL_BIG_VS_DISK = 0.8
# The appliance rows the goal is checked on: its default (AF_XDP) ingress path
# and its ring-buffer path (--ingress-path ringbuf, for copy-mode drivers).
GOAL_TOOLS = ["appliance", "appliance-ringbuf"]
GOAL_RATIO = 2.5
GOAL_LOSS_PCT = 0.1


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def key(p):
    return (p["group"], p["size"], p["filter"], p["snaplen"], p["target_pps"],
            p["queues"], p["gen_threads"], p["tool"])


def summarise(points):
    groups = {}
    for p in points:
        groups.setdefault(key(p), []).append(p)
    out = []
    for k, ps in groups.items():
        good = [p for p in ps if p["ok"]]
        s = dict(group=k[0], size=k[1], filter=k[2], snaplen=k[3], target_pps=k[4],
                 queues=k[5], gen_threads=k[6], tool=k[7], runs=len(ps), ok_runs=len(good),
                 offered_pps=med([p["offered_pps"] for p in good]),
                 captured_pps=med([p["captured_pps"] for p in good]),
                 loss_pct=med([p["loss_pct"] for p in good]),
                 max_loss_pct=max([p["loss_pct"] for p in good if p["loss_pct"] is not None],
                                  default=None),
                 cpu_seconds=med([p["cpu_seconds"] for p in good]),
                 bytes_per_s=med([p["bytes_per_s"] for p in good]),
                 errors=sorted({p["error"] for p in ps if p["error"]}),
                 notes=sorted({p["note"] for p in ps if p.get("note")}))
        qs = [p.get("arrived_queues") for p in good if p.get("arrived_queues")]
        if qs:
            s["arrived_queues"] = qs[-1]
        out.append(s)
    # ratios against tcpdump and the ceiling of the same configuration
    by = {(s["group"], s["size"], s["filter"], s["snaplen"], s["target_pps"], s["queues"],
           s["gen_threads"], s["tool"]): s for s in out}
    for s in out:
        base = key(s)[:-1]
        td = by.get(base + ("tcpdump",))
        ce = by.get(base + ("ceiling",))
        s["vs_tcpdump"] = (s["captured_pps"] / td["captured_pps"]
                           if td and td["captured_pps"] and s["captured_pps"] is not None
                           else None)
        s["vs_ceiling"] = (s["captured_pps"] / ce["captured_pps"]
                           if ce and ce["captured_pps"] and s["captured_pps"] is not None
                           else None)
    order = {t: i for i, t in enumerate(TOOLS)}
    out.sort(key=lambda s: (s["group"], s["queues"], s["size"], s["snaplen"], s["filter"],
                            s["target_pps"], order.get(s["tool"], 99)))
    return out


def fmt_pps(v):
    if v is None:
        return "-"
    return "%.2f M" % (v / 1e6) if v >= 1e5 else "%.0f k" % (v / 1e3)


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def filter_name(f, long_filter):
    return "long" if f == long_filter else f


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    def ver(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"
    return dict(host=platform.node(), kernel=platform.release(), cpu=cpu,
                cpus=os.cpu_count(),
                tcpdump=ver(["tcpdump", "--version"]), netsniff_ng=ver(["netsniff-ng", "-v"]),
                xdpdump=ver(["xdpdump", "--version"]))


def goal_one(summary, tool):
    app = [s for s in summary if s["group"] == "main" and s["tool"] == tool
           and s["size"] == 64 and s["snaplen"] == 64 and s["filter"] == "udp"
           and s["target_pps"] == 0]
    if not app:
        return None
    s = app[0]
    ratio, loss = s["vs_tcpdump"], s["max_loss_pct"]
    met = (ratio is not None and ratio >= GOAL_RATIO and loss is not None
           and loss <= GOAL_LOSS_PCT and s["ok_runs"] == s["runs"])
    return dict(met=met, tool=tool, appliance_pps=s["captured_pps"], ratio_vs_tcpdump=ratio,
                ratio_vs_ceiling=s["vs_ceiling"], worst_loss_pct=loss,
                want_ratio=GOAL_RATIO, want_loss_pct=GOAL_LOSS_PCT, errors=s["errors"])


def goal(summary):
    """The goal check on each appliance path that ran; the verdict is the best
    of them (met first, then the higher ratio), and says which path it is."""
    res = [g for g in (goal_one(summary, t) for t in GOAL_TOOLS) if g]
    if not res:
        return dict(met=False, why="no appliance run at 64 B / udp / snaplen 64")
    best = max(res, key=lambda g: (g["met"], g["ratio_vs_tcpdump"] or 0))
    best = dict(best)
    best["paths"] = res
    return best


def loss_onsets(summary):
    """Per tool: the lowest offered rate (sweep + max-rate main point) at which
    loss exceeded 0.1 %, and the highest rate captured without that."""
    res = {}
    for t in TOOLS:
        rows = [s for s in summary if s["tool"] == t and s["queues"] == 1 and s["size"] == 64
                and s["snaplen"] == 64 and s["filter"] == "udp" and s["gen_threads"] == 1
                and s["group"] in ("sweep", "main") and s["offered_pps"]]
        if not rows:
            continue
        rows.sort(key=lambda s: s["offered_pps"])
        clean = [s["offered_pps"] for s in rows
                 if s["loss_pct"] is not None and s["loss_pct"] <= GOAL_LOSS_PCT]
        lossy = [s["offered_pps"] for s in rows
                 if s["loss_pct"] is not None and s["loss_pct"] > GOAL_LOSS_PCT]
        res[t] = dict(loses_from_pps=min(lossy) if lossy else None,
                      lossless_up_to_pps=max(clean) if clean else None)
    return res


def disk_rates(points):
    """The file system's sequential write rate (bytes/s) per method, median."""
    res = {}
    for p in points:
        if p.get("group") == "disk" and p.get("bytes_per_s"):
            res.setdefault(p["how"], []).append(p["bytes_per_s"])
    return {k: statistics.median(v) for k, v in res.items()}


def lossless(summary, disk):
    """Per configuration (size, filter, snaplen) and tool: every rate tried
    (median loss of its runs) and the lossless rate: the highest offered rate
    whose median loss is <= 0.1 %. A max-rate point (target 0) counts at its
    median offered rate; lossless there = the generator was the limit."""
    rows = [s for s in summary if s["group"] == "lossless"]
    confs = {}
    for s in rows:
        confs.setdefault((s["size"], s["filter"], s["snaplen"]), {}).setdefault(
            s["tool"], []).append(s)
    out = []
    for (size, flt, snap), tools in confs.items():
        res = {}
        for tool, ss in tools.items():
            tried = []
            for s in ss:
                rate = s["target_pps"] or s["offered_pps"] or 0
                tried.append(dict(rate_pps=rate, max_rate=not s["target_pps"],
                                  loss_pct=s["loss_pct"], captured_pps=s["captured_pps"],
                                  runs=s["ok_runs"], cpu_seconds=s["cpu_seconds"],
                                  notes=s["notes"], errors=s["errors"]))
            tried.sort(key=lambda t: t["rate_pps"])
            ok = [t for t in tried if t["loss_pct"] is not None and t["loss_pct"] <= GOAL_LOSS_PCT]
            best = max(ok, key=lambda t: t["rate_pps"]) if ok else None
            lossy = [t["rate_pps"] for t in tried
                     if t["loss_pct"] is None or t["loss_pct"] > GOAL_LOSS_PCT]
            res[tool] = dict(lossless_pps=best["rate_pps"] if best else None,
                             generator_bound=bool(best and best["max_rate"]),
                             lowest_lossy_pps=min(lossy) if lossy else None,
                             tried=tried)
        td = res.get("tcpdump", {}).get("lossless_pps")
        ce = res.get("ceiling", {}).get("lossless_pps")
        disk_fps = {k: v / (min(size, snap) + 16) for k, v in disk.items()}
        for r in res.values():
            v = r["lossless_pps"]
            r["vs_tcpdump"] = v / td if v is not None and td else None
            r["vs_ceiling"] = v / ce if v is not None and ce else None
            r["vs_disk"] = (v / max(disk_fps.values())
                            if v is not None and disk_fps and size > 64 else None)
        out.append(dict(size=size, filter=flt, snaplen=snap, tools=res,
                        disk_frames_per_s=disk_fps if size > 64 else None))
    return out


def figures(ll):
    """Issue 11's figures for the default path (tool "appliance")."""
    res = []
    for c in ll:
        a = c["tools"].get("appliance")
        if not a:
            continue
        if c["size"] == 64:
            res.append(dict(what="64 B lossless >= %.0fx tcpdump" % LL_SMALL_VS_TCPDUMP,
                            value=a["vs_tcpdump"], met=bool(a["vs_tcpdump"] and
                                                            a["vs_tcpdump"] >= LL_SMALL_VS_TCPDUMP)))
            res.append(dict(what="64 B lossless >= %.0f %% of the ceiling" % (100 * LL_SMALL_VS_CEILING),
                            value=a["vs_ceiling"], met=bool(a["vs_ceiling"] and
                                                            a["vs_ceiling"] >= LL_SMALL_VS_CEILING)))
        else:
            res.append(dict(what="%d B lossless >= %.0fx tcpdump" % (c["size"], LL_BIG_VS_TCPDUMP),
                            value=a["vs_tcpdump"], met=bool(a["vs_tcpdump"] and
                                                            a["vs_tcpdump"] >= LL_BIG_VS_TCPDUMP)))
            res.append(dict(what="%d B lossless >= %.0f %% of the disk" % (c["size"], 100 * LL_BIG_VS_DISK),
                            value=a["vs_disk"], met=bool(a["vs_disk"] and
                                                         a["vs_disk"] >= LL_BIG_VS_DISK)))
    return res


def lossless_md(ll, figs, disk):
    L = []
    if not ll:
        return L
    L.append("### Lossless rate (highest offered rate losing <= %.1f %%, median of the runs "
             "at each rate)" % GOAL_LOSS_PCT)
    if disk:
        L.append("")
        L.append("Disk (same file system, 1 GiB of 1 MiB writes, this run): " + ", ".join(
            "%s %.0f MB/s" % (k, v / 1e6) for k, v in sorted(disk.items())) + ".")
    for c in ll:
        L.append("")
        L.append("%d-byte frames, filter `%s`, snaplen %s%s:" % (
            c["size"], c["filter"], "full" if c["snaplen"] >= 65535 else c["snaplen"],
            "" if not c["disk_frames_per_s"] else " (the disk takes %s frames/s of this size)" %
            " / ".join("%s %s" % (fmt_pps(v), k) for k, v in sorted(c["disk_frames_per_s"].items()))))
        L.append("")
        L.append("| tool | lossless rate | vs tcpdump | vs ceiling | vs disk | lowest lossy rate tried "
                 "| rates tried: median loss % | notes |")
        L.append("|---|---|---|---|---|---|---|---|")
        order = {t: i for i, t in enumerate(TOOLS)}
        for tool in sorted(c["tools"], key=lambda t: order.get(t, 99)):
            r = c["tools"][tool]
            tried = ", ".join("%s%s: %s" % (fmt_pps(t["rate_pps"]), " (max)" if t["max_rate"] else "",
                                            fmt(t["loss_pct"], "%.2f")) for t in r["tried"])
            notes = sorted({n for t in r["tried"] for n in t["notes"]} |
                           {"FAILED: " + e for t in r["tried"] for e in t["errors"]})
            v = r["lossless_pps"]
            L.append("| %s | %s%s | %s | %s | %s | %s | %s | %s |" % (
                tool, ">= " if r["generator_bound"] else "", fmt_pps(v) if v else "none found",
                fmt(r["vs_tcpdump"]), fmt(r["vs_ceiling"]), fmt(r["vs_disk"]),
                fmt_pps(r["lowest_lossy_pps"]), tried, "; ".join(notes)))
    if figs:
        L.append("")
        L.append("Figures (issue 11, the appliance's default): " + "; ".join(
            "%s: %s (%s)" % (f["what"], fmt(f["value"]), "met" if f["met"] else "not met")
            for f in figs) + ".")
    L.append("")
    L.append("\">=\": lossless at the generator's top rate, so the tool's own limit is higher.")
    return L


def markdown(meta, summary, onsets, g, filter_md, long_filter, ll=None, figs=None, disk=None):
    L = []
    m = meta["machine"]
    L.append("## Capture benchmark (%s mode), %s" % (meta["mode"], meta["finished"]))
    L.append("")
    L.append("Machine: %s, %d CPUs, kernel %s. Load average during the run: %s..%s "
             "(the machine is shared; points are medians, tools interleaved)." % (
                 m["cpu"], m["cpus"], m["kernel"], fmt(meta["load_min"], "%.1f"),
                 fmt(meta["load_max"], "%.1f")))
    L.append("Generator: bn-pktgen (BPF_PROG_RUN live frames), 1 thread on CPU %s unless "
             "noted (the veth's receive path runs there too); capture tools pinned to CPU %s; "
             "scheduling: %s. "
             "Captured = packets in the tool's file "
             "(capinfos) / generator seconds. Long filter: `%s`." % (
                 meta["gen_cpu"], meta["tool_cpus"] or "none", meta["sched"], long_filter))
    L.append("")
    if g and g.get("tool"):
        L.append("**Goal** (64 B, udp, snaplen 64, max rate: appliance >= %.1fx tcpdump, "
                 "<= %.1f%% loss): %s — %s %s pps, %sx tcpdump, %s of the ceiling, "
                 "worst loss %s%%." % (
                     GOAL_RATIO, GOAL_LOSS_PCT, "**met**" if g["met"] else "**not met**",
                     g.get("tool", "appliance"),
                     fmt_pps(g.get("appliance_pps")), fmt(g.get("ratio_vs_tcpdump")),
                     fmt(g.get("ratio_vs_ceiling"), "%.2f"),
                     fmt(g.get("worst_loss_pct"), "%.3f")))
        L.append("")
    hdr = ("| tool | offered pps | captured pps | loss % | CPU s | file MB/s | vs tcpdump "
           "| vs ceiling | runs | notes |")
    sep = "|---|---|---|---|---|---|---|---|---|---|"

    def row(s):
        notes = "; ".join(["FAILED: " + e for e in s["errors"]] + s["notes"])
        if s.get("arrived_queues") and s["queues"] > 1:
            notes = ("per-queue arrivals %s; " % s["arrived_queues"]) + notes
        return "| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d | %s |" % (
            s["tool"], fmt_pps(s["offered_pps"]), fmt_pps(s["captured_pps"]),
            fmt(s["loss_pct"], "%.3f"), fmt(s["cpu_seconds"]),
            fmt(s["bytes_per_s"] / 1e6 if s["bytes_per_s"] is not None else None, "%.0f"),
            fmt(s["vs_tcpdump"]), fmt(s["vs_ceiling"]), s["ok_runs"], s["runs"], notes)

    L.extend(lossless_md(ll or [], figs or [], disk or {}))
    main = [s for s in summary if s["group"] == "main"]
    configs = []
    for s in main:
        c = (s["size"], s["filter"], s["snaplen"])
        if c not in configs:
            configs.append(c)
    if configs:
        L.append("")
        L.append("### Max rate, one RX queue")
    for size, flt, snap in configs:
        L.append("")
        L.append("%d-byte frames, filter `%s`, snaplen %s:" % (
            size, filter_name(flt, long_filter), "full" if snap >= 65535 else snap))
        L.append("")
        L.append(hdr)
        L.append(sep)
        for s in main:
            if (s["size"], s["filter"], s["snaplen"]) == (size, flt, snap):
                L.append(row(s))
    sweep = [s for s in summary if s["group"] == "sweep"]
    if sweep:
        rates = sorted({s["target_pps"] for s in sweep})
        tools = [t for t in TOOLS if any(s["tool"] == t for s in sweep)]
        L.append("")
        L.append("### Rate sweep (64 B, udp, snaplen 64): captured pps / loss %")
        L.append("")
        L.append("| tool | " + " | ".join("%s asked" % fmt_pps(r) for r in rates) +
                 " | loses > 0.1 % from | lossless up to |")
        L.append("|---|" + "---|" * (len(rates) + 2))
        for t in tools:
            cells = []
            for r in rates:
                s = next((x for x in sweep if x["tool"] == t and x["target_pps"] == r), None)
                cells.append("-" if not s else "%s / %s" % (fmt_pps(s["captured_pps"]),
                                                            fmt(s["loss_pct"], "%.2f")))
            o = onsets.get(t, {})
            L.append("| %s | %s | %s | %s |" % (t, " | ".join(cells),
                                               fmt_pps(o.get("loses_from_pps")) if o.get("loses_from_pps") else "never",
                                               fmt_pps(o.get("lossless_up_to_pps"))))
    mq = [s for s in summary if s["group"] == "multiqueue"]
    if mq:
        L.append("")
        L.append("### RX queues (64 B, udp, snaplen 64, one generator thread per queue on "
                 "CPUs 0.., at most one per CPU; tools not pinned)")
        L.append("")
        L.append("| queues " + hdr[1:])
        L.append("|---" + sep)
        for s in mq:
            L.append("| %d |%s" % (s["queues"], row(s)[1:]))
    if filter_md:
        L.append("")
        L.append("### Filter compiler (bench/filter/fg_bench)")
        L.append("")
        L.append(filter_md.replace("## ", "#### ").strip())
    L.append("")
    return "\n".join(L)


def plot(summary, out_png, work):
    """Captured rate against the rate asked of the generator. On veth a tool's
    receive path slows the generator (see README), so against the *offered*
    rate every tool sits on the diagonal; against the requested rate each
    tool's curve flattens where it stops keeping up. Max-rate points are drawn
    at the ceiling's max rate."""
    groups = ("lossless",) if any(s["group"] == "lossless" for s in summary) else ("sweep", "main")
    rows = [s for s in summary
            if (s["queues"] == 1 and s["size"] == 64 and s["snaplen"] == 64
                and s["filter"] == "udp" and s["gen_threads"] == 1
                and s["group"] in groups and s["captured_pps"] is not None)]
    if not rows:
        return False
    max_x = max([s["offered_pps"] or 0 for s in rows if s["target_pps"] == 0] +
                [s["target_pps"] for s in rows]) or 1
    series = {}
    for s in rows:
        x = s["target_pps"] or max_x
        series.setdefault(s["tool"], []).append((x, s["captured_pps"]))
    files = []
    for t in TOOLS:
        if t not in series:
            continue
        path = os.path.join(work, "plot-%s.dat" % t)
        with open(path, "w") as f:
            for x, y in sorted(series[t]):
                f.write("%f %f\n" % (x / 1e6, y / 1e6))
        files.append((t, path))
    top = max_x / 1e6 * 1.1
    gp = os.path.join(work, "plot.gp")
    with open(gp, "w") as f:
        f.write('set terminal pngcairo size 900,560\nset output "%s"\n' % out_png)
        f.write('set title "Packets in the file vs rate asked of the generator '
                '(64 B, filter udp, snaplen 64)"\n')
        f.write('set xlabel "requested rate (Mpps); rightmost point: as fast as it can"\n')
        f.write('set ylabel "captured: packets in the file / s (Mpps)"\n')
        f.write('set key top left\nset grid\nset xrange [0:%f]\nset yrange [0:%f]\n'
                % (top, top))
        plots = ['x title "no loss" with lines dashtype 2 lc rgb "gray"']
        plots += ['"%s" using 1:2 title "%s" with linespoints lw 2' % (p, t) for t, p in files]
        f.write("plot " + ", ".join(plots) + "\n")
    return subprocess.run(["gnuplot", gp]).returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", default="quick")
    ap.add_argument("--start", default="")
    ap.add_argument("--filter-md", default="")
    ap.add_argument("--filter-json", default="")
    ap.add_argument("--long-filter", default="")
    ap.add_argument("--gen-cpu", default="")
    ap.add_argument("--sched", default="")
    ap.add_argument("--tool-cpus", default="")
    a = ap.parse_args()
    with open(a.points) as f:
        points = [json.loads(line) for line in f if line.strip()]
    disk = disk_rates(points)
    points = [p for p in points if p.get("group") != "disk"]
    summary = summarise(points)
    ll = lossless(summary, disk)
    figs = figures(ll)
    loads = [p["loadavg"] for p in points]
    meta = dict(mode=a.mode, started=a.start,
                finished=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                machine=machine(), load_min=min(loads, default=None),
                load_max=max(loads, default=None), long_filter=a.long_filter,
                gen_cpu=a.gen_cpu, tool_cpus=a.tool_cpus, sched=a.sched)
    filter_md = ""
    filter_json = None
    if a.filter_md and os.path.exists(a.filter_md):
        with open(a.filter_md) as f:
            filter_md = f.read()
    if a.filter_json and os.path.exists(a.filter_json):
        try:
            with open(a.filter_json) as f:
                filter_json = json.load(f)
        except ValueError:
            pass
    g = goal(summary)
    onsets = loss_onsets(summary)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "latest.json"), "w") as f:
        json.dump(dict(meta=meta, goal=g, loss_onset=onsets, lossless=ll, figures=figs,
                       disk_bytes_per_s=disk, summary=summary, filter=filter_json,
                       points=points), f, indent=1)
    md = markdown(meta, summary, onsets, g, filter_md, a.long_filter, ll, figs, disk)
    with open(os.path.join(a.out, "latest.md"), "w") as f:
        f.write(md)
    with tempfile.TemporaryDirectory() as work:
        if not plot(summary, os.path.abspath(os.path.join(a.out, "latest.png")), work):
            print("report: no plot")
    print(md)


if __name__ == "__main__":
    main()
