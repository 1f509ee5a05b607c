#!/usr/bin/env python3
"""Measures the optimization summary's claims from a moetune results file.

    tools/claims.py results/qwen3-30b-a3b.json [--threads 2] [--layout oi]

Prints Markdown: per token count (1 = the incremental path, and the batch sizes measured) the
naive layer's median time, the fastest verified strategy's, the speedup and the % of roofline;
then per strategy the heap allocations and bytes per call and the buffers it holds. Every figure
comes from the file; nothing is typed in by hand. Standard library only.
"""
import argparse
import json
import statistics
import sys


def cases(results, op, layout, threads):
    """Iteration runs of one op, grouped by case name."""
    out = {}
    for b in results["benchmarks"]:
        if b.get("op") != op or b.get("layout") != layout or b.get("threads") != threads:
            continue
        if b.get("run_type") != "iteration":
            continue
        out.setdefault(b["name"], []).append(b)
    return out


def median_ms(runs):
    unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[runs[0]["time_unit"]]
    return statistics.median(r["real_time"] for r in runs) * unit


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layout", default="oi")
    a = ap.parse_args()
    with open(a.results) as f:
        results = json.load(f)
    ctx = results["context"]
    layer = cases(results, "layer", a.layout, a.threads)
    if not layer:
        sys.exit(f"{a.results}: no layer results at layout {a.layout}, {a.threads} threads")
    by_tokens = {}
    for name, runs in layer.items():
        r = runs[0]
        if r.get("error_occurred") or not r.get("verified"):
            continue
        by_tokens.setdefault(r["tokens"], {})[r["variant"]] = runs

    print(f"From `{a.results}` ({ctx.get('cpu_model')}, {ctx.get('cores')} cores, "
          f"{ctx.get('compiler')}, commit {ctx.get('git_commit')}); layout {a.layout}, "
          f"{a.threads} threads; roofline {ctx.get('read_bandwidth_gbs', 0):.1f} GB/s, "
          f"{ctx.get('peak_gflops', 0):.0f} GFLOP/s; peak RSS of the sweep "
          f"{ctx.get('peak_rss_bytes', 0) / 2**30:.2f} GiB.\n")
    print("| tokens | naive | fastest strategy | its time | speedup over naive | % of roofline |")
    print("|---|---|---|---|---|---|")
    for t in sorted(by_tokens):
        v = by_tokens[t]
        naive = v.get("layer_f32__naive")
        best = min(v, key=lambda n: median_ms(v[n]))
        roof = statistics.median(r["roofline_pct"] for r in v[best])
        speed = f"{median_ms(naive) / median_ms(v[best]):.2f}x" if naive else "-"
        nt = f"{median_ms(naive):.2f} ms" if naive else "-"
        print(f"| {t} | {nt} | `{best}` | {median_ms(v[best]):.2f} ms | {speed} | {roof:.1f}% |")

    print("\n| strategy | tokens | heap allocations per call | heap bytes per call | "
          "buffers held (workspace) |")
    print("|---|---|---|---|---|")
    for t in sorted(by_tokens):
        for name, runs in sorted(by_tokens[t].items()):
            r = runs[0]
            print(f"| `{name}` | {t} | {r.get('allocs_per_call', 0):.1f} | "
                  f"{r.get('heap_bytes_per_call', 0) / 1024:.1f} KiB | "
                  f"{r.get('workspace_bytes', 0) / 1024:.1f} KiB |")


if __name__ == "__main__":
    main()
