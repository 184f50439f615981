#!/usr/bin/env python3
"""The benchmark's arithmetic: point.py turns one run into a point (loss,
rates), report.py turns points into medians, ratios to tcpdump and the
ceiling, the goal verdict, loss onsets, the Markdown table and the plot.
Synthetic inputs with known answers; no network, no root."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def point(work, tool, offered, secs, captured, rate=0, rep=1, group="main", ok=True,
          size=64, snap=64):
    gen = os.path.join(work, "gen.json")
    with open(gen, "w") as f:
        json.dump({"sent": offered, "seconds": secs,
                   "rate_pps": offered / secs if secs else 0}, f)
    env = dict(os.environ, BP_GROUP=group, BP_TOOL=tool, BP_SIZE=str(size), BP_FILTER="udp",
               BP_SNAP=str(snap), BP_RATE=str(rate), BP_COUNT=str(offered), BP_THREADS="1",
               BP_REP=str(rep), BP_QUEUES="1", BP_OK="true" if ok else "false",
               BP_ERROR="" if ok else "did not start: boom", BP_NOTE="", BP_LOAD="1.5",
               BP_GEN=gen, BP_SINK='{"packets": %d, "queues": [%d]}' % (offered, offered),
               BP_CAPTURED=str(captured), BP_CPU="0.5", BP_FBYTES=str(captured * 80),
               BP_APP="")
    out = subprocess.run([sys.executable, os.path.join(HERE, "point.py")], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def main():
    with tempfile.TemporaryDirectory() as work:
        pts = []
        p = point(work, "tcpdump", 1000000, 1.0, 999000)
        check(p["lost"] == 1000 and abs(p["loss_pct"] - 0.1) < 1e-9, "loss = offered - file packets")
        check(p["captured_pps"] == 999000 and p["bytes_per_s"] == 999000 * 80,
              "rates are per generator second")
        pts.append(p)
        pts += [point(work, "tcpdump", 1000000, 1.0, 1000000, rep=r) for r in (2, 3)]
        # appliance: 3.0 M/s medians (2.9, 3.0, 3.5), one run lossy at 0.2 %
        pts += [point(work, "appliance", 3000000, 1.0, 3000000, rep=1),
                point(work, "appliance", 2900000, 1.0, 2900000, rep=2),
                point(work, "appliance", 3500000, 1.0, 3493000, rep=3)]
        pts += [point(work, "ceiling", 4000000, 1.0, 4000000, rep=r) for r in (1, 2, 3)]
        failed = point(work, "xdpdump", 0, 0, 0, ok=False)
        check(failed["lost"] is None and failed["error"], "a failed tool has an error, no loss figure")
        pts.append(failed)
        # sweep: tcpdump clean at 0.5 M, lossy at 1 M
        pts += [point(work, "tcpdump", 500000, 1.0, 500000, rate=500000, group="sweep"),
                point(work, "tcpdump", 900000, 1.0, 800000, rate=1000000, group="sweep")]
        pf = os.path.join(work, "points.jsonl")
        with open(pf, "w") as f:
            f.writelines(json.dumps(x) + "\n" for x in pts)
        out = os.path.join(work, "out")
        subprocess.run([sys.executable, os.path.join(HERE, "report.py"), "--points", pf,
                        "--out", out], check=True, capture_output=True)
        with open(os.path.join(out, "latest.json")) as f:
            r = json.load(f)
        s = {x["tool"]: x for x in r["summary"] if x["group"] == "main"}
        check(s["appliance"]["captured_pps"] == 3000000, "median of three runs")
        check(abs(s["appliance"]["vs_tcpdump"] - 3.0) < 1e-9, "ratio to tcpdump's median")
        check(abs(s["appliance"]["vs_ceiling"] - 0.75) < 1e-9, "ratio to the ceiling")
        check(s["xdpdump"]["ok_runs"] == 0 and s["xdpdump"]["errors"], "failure kept in the summary")
        g = r["goal"]
        check(not g["met"] and abs(g["worst_loss_pct"] - 0.2) < 1e-9,
              "goal not met: one run lost 0.2 % > 0.1 %")
        check(r["loss_onset"]["tcpdump"]["loses_from_pps"] == 900000 and
              r["loss_onset"]["tcpdump"]["lossless_up_to_pps"] == 1000000,
              "loss onset: lowest lossy offered rate, highest clean one")
        with open(os.path.join(out, "latest.md")) as f:
            md = f.read()
        check("| appliance | 3.00 M | 3.00 M |" in md and "FAILED: did not start: boom" in md,
              "Markdown rows, failures shown")
        check(os.path.getsize(os.path.join(out, "latest.png")) > 1000, "plot written")
        # the same points with a clean appliance: goal met
        with open(pf, "w") as f:
            for x in pts:
                if x["tool"] == "appliance" and x["rep"] == 3:
                    x = dict(x, captured=3500000, lost=0, loss_pct=0.0, captured_pps=3500000)
                f.write(json.dumps(x) + "\n")
        subprocess.run([sys.executable, os.path.join(HERE, "report.py"), "--points", pf,
                        "--out", out], check=True, capture_output=True)
        with open(os.path.join(out, "latest.json")) as f:
            check(json.load(f)["goal"]["met"], "goal met at 3x tcpdump without loss")
        lossless_case(work)
    print("PASS")


def lossless_case(work):
    """The lossless search's points: per rate, the median loss of 3 runs
    decides; the highest clean rate wins; a clean max-rate probe means the
    generator was the limit; ratios to tcpdump, the ceiling and the disk."""
    L = "lossless"
    pts = []
    # ceiling: clean at max rate (4 M): generator-bound
    pts += [point(work, "ceiling", 4000000, 1.0, 4000000, rep=r, group=L) for r in (1, 2, 3)]
    # tcpdump: lossy at max (1.2 M), lossy at 1.0 M (medians 5 %), clean at 0.5 M
    # (runs 0, 0.05, 0.3 %: the median 0.05 is <= 0.1)
    pts += [point(work, "tcpdump", 1200000, 1.0, 1000000, rep=r, group=L) for r in (1, 2, 3)]
    pts += [point(work, "tcpdump", 1000000, 1.0, 950000, rate=1000000, rep=r, group=L)
            for r in (1, 2, 3)]
    pts += [point(work, "tcpdump", 500000, 1.0, c, rate=500000, rep=r, group=L)
            for r, c in ((1, 500000), (2, 499750), (3, 498500))]
    # appliance: lossy at max (3.5 M), clean at 3.0 M, lossy at 3.2 M
    pts += [point(work, "appliance", 3500000, 1.0, 3400000, rep=r, group=L) for r in (1, 2, 3)]
    pts += [point(work, "appliance", 3000000, 1.0, 3000000, rate=3000000, rep=r, group=L)
            for r in (1, 2, 3)]
    pts += [point(work, "appliance", 3200000, 1.0, 3100000, rate=3200000, rep=r, group=L)
            for r in (1, 2, 3)]
    # 1514 B, full snaplen: the appliance clean at 100 k frames/s, tcpdump at 25 k;
    # the disk writes 153 MB/s buffered = 100 k frames/s of 1514 + 16 bytes
    pts += [point(work, "appliance", 200000, 1.0, 150000, rep=r, group=L, size=1514, snap=262144)
            for r in (1, 2, 3)]
    pts += [point(work, "appliance", 100000, 1.0, 100000, rate=100000, rep=r, group=L,
                  size=1514, snap=262144) for r in (1, 2, 3)]
    pts += [point(work, "tcpdump", 25000, 1.0, 25000, rate=25000, rep=r, group=L,
                  size=1514, snap=262144) for r in (1, 2, 3)]
    pts.append(dict(group="disk", tool="disk-buffered", how="buffered", bytes=153000000,
                    seconds=1.0, bytes_per_s=153000000.0, loadavg=1.0))
    pf = os.path.join(work, "ll.jsonl")
    with open(pf, "w") as f:
        f.writelines(json.dumps(x) + "\n" for x in pts)
    out = os.path.join(work, "llout")
    subprocess.run([sys.executable, os.path.join(HERE, "report.py"), "--points", pf,
                    "--out", out], check=True, capture_output=True)
    with open(os.path.join(out, "latest.json")) as f:
        r = json.load(f)
    small = next(c for c in r["lossless"] if c["size"] == 64)["tools"]
    big = next(c for c in r["lossless"] if c["size"] == 1514)["tools"]
    check(small["ceiling"]["lossless_pps"] == 4000000 and small["ceiling"]["generator_bound"],
          "clean at max rate: lossless at the generator's rate, marked as such")
    check(small["tcpdump"]["lossless_pps"] == 500000 and small["tcpdump"]["lowest_lossy_pps"] == 1000000,
          "median loss of 3 runs decides a rate (0.05 % median passes)")
    check(small["appliance"]["lossless_pps"] == 3000000 and not small["appliance"]["generator_bound"],
          "highest clean rate below the lossy ones")
    check(abs(small["appliance"]["vs_tcpdump"] - 6.0) < 1e-9 and
          abs(small["appliance"]["vs_ceiling"] - 0.75) < 1e-9, "lossless ratios")
    check(abs(big["appliance"]["vs_disk"] - 1.0) < 1e-9 and abs(big["appliance"]["vs_tcpdump"] - 4.0) < 1e-9,
          "1514 B: ratio to the disk's frame rate and to tcpdump")
    figs = {f["what"]: f["met"] for f in r["figures"]}
    check(figs["64 B lossless >= 4x tcpdump"] and figs["64 B lossless >= 70 % of the ceiling"] and
          figs["1514 B lossless >= 80 % of the disk"], "issue 11 figures evaluated")
    with open(os.path.join(out, "latest.md")) as f:
        md = f.read()
    check("| ceiling | >= 4.00 M |" in md and "| appliance | 3.00 M | 6.00 |" in md,
          "lossless table rows")


if __name__ == "__main__":
    main()
