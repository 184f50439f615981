#!/usr/bin/env python3
"""One benchmark point as a JSON line, from the BP_* variables point.sh sets
(values travel through the environment so filters and error texts need no
quoting). With --show: reads a point line on stdin and prints it for humans."""
import json
import os
import sys


def build():
    e = os.environ
    ok = e["BP_OK"] == "true"
    gen = {}
    try:
        with open(e["BP_GEN"]) as f:
            gen = json.load(f)
    except (OSError, ValueError):
        pass
    p = dict(group=e["BP_GROUP"], tool=e["BP_TOOL"], size=int(e["BP_SIZE"]),
             filter=e["BP_FILTER"], snaplen=int(e["BP_SNAP"]),
             target_pps=float(e["BP_RATE"]), count=int(e["BP_COUNT"]),
             gen_threads=int(e["BP_THREADS"]), rep=int(e["BP_REP"]),
             queues=int(e["BP_QUEUES"]), ok=ok, error=e.get("BP_ERROR") or None,
             note=e.get("BP_NOTE") or None, loadavg=float(e.get("BP_LOAD") or 0))
    p["offered"] = gen.get("sent", 0)
    p["gen_seconds"] = gen.get("seconds", 0)
    p["offered_pps"] = gen.get("rate_pps", 0)
    p["captured"] = int(e.get("BP_CAPTURED") or 0)
    p["cpu_seconds"] = None if p["tool"] == "ceiling" else float(e.get("BP_CPU") or 0)
    p["file_bytes"] = int(e.get("BP_FBYTES") or 0)
    s = p["gen_seconds"]
    p["captured_pps"] = p["captured"] / s if s else 0
    p["bytes_per_s"] = p["file_bytes"] / s if s else 0
    p["lost"] = max(p["offered"] - p["captured"], 0) if ok else None
    p["loss_pct"] = 100.0 * p["lost"] / p["offered"] if ok and p["offered"] else None
    if e.get("BP_SINK", "").strip():
        try:
            sink = json.loads(e["BP_SINK"])
            p["arrived"] = sink.get("packets")
            p["arrived_queues"] = sink.get("queues")
        except ValueError:
            pass
    if e.get("BP_APP"):
        p["appliance_counters"] = e["BP_APP"]
    return p


def show(p):
    loss = "%.3f%%" % p["loss_pct"] if p["loss_pct"] is not None else "-"
    cpu = "%.2fs" % p["cpu_seconds"] if p["cpu_seconds"] is not None else "-"
    tail = ("FAILED: " + p["error"]) if p["error"] else (p["note"] or "")
    print("  %-15s %4dB snap %-6d rate %-8s q%d rep %d: offered %9d (%8.0f pps) "
          "captured %9d (%8.0f pps) loss %s cpu %s %s" % (
              p["tool"], p["size"], p["snaplen"],
              "%.0f" % p["target_pps"] if p["target_pps"] else "max", p["queues"],
              p["rep"], p["offered"], p["offered_pps"], p["captured"],
              p["captured_pps"], loss, cpu, tail), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--show"]:
        show(json.loads(sys.stdin.readline()))
    else:
        print(json.dumps(build()))
