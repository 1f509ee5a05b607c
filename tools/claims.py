#!/usr/bin/env python3
"""Measures the optimization summary's claims from a moetune results file.

    tools/claims.py results/zen3-avx2/qwen3-30b-a3b.json [--threads 2] [--layout oi] [--dtype f32]
    tools/claims.py results/zen3-avx2/qwen3-30b-a3b-dtypes.json --limits [--peer PEER.json ...]

Prints Markdown: per token count (1 = the incremental path, and the batch sizes measured) the
naive layer's median time, the fastest verified strategy's, the speedup and the % of roofline;
then per strategy the heap allocations and bytes per call and the buffers it holds.
--limits prints instead, per dtype and token count, the fastest strategy against the machine's
limits (% of the read roofline in the dtype's bytes, % of the peak of the arithmetic it ran:
f32 FMAs, or the bf16 / int8 dot product where its gemv rounded the activations, the relative
error against f32 weights) and against each peer file's fastest variant at the same point.
Every figure comes from the files; nothing is typed in by hand. Standard library only.
"""
import argparse
import json
import statistics
import sys


def cases(results, op, layout, threads, dtype=None):
    """Iteration runs of one op, grouped by case name."""
    out = {}
    for b in results["benchmarks"]:
        if b.get("op") != op or b.get("layout") != layout or b.get("threads") != threads:
            continue
        if dtype is not None and b.get("dtype") != dtype:
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
    ap.add_argument("--dtype", default="f32")
    ap.add_argument("--limits", action="store_true")
    ap.add_argument("--peer", action="append", default=[])
    a = ap.parse_args()
    with open(a.results) as f:
        results = json.load(f)
    ctx = results["context"]
    if a.limits:
        return limits(a, results)
    layer = cases(results, "layer", a.layout, a.threads, a.dtype)
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
        naive = v.get(f"layer_{a.dtype}__naive")
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


PEER_EQUIVALENT = {"int8": "q8_0"}
# A result's `activations` -> the roofline's arithmetic class (harness/roofline.h, Arith).
ARITH = {"f32": "f32", "bf16": "bf16_dot", "int8": "int8_dot"}


def peak_of(ctx, activations, kernels=""):
    """GFLOP/s of the best probe of the arithmetic; the f32 peak where it was not measured.
    A result whose kernels include an AMX gemv (`__amx_`) ran the tile products."""
    arith = ARITH.get(activations or "f32", "f32")
    if "__amx_" in (kernels or "") and arith != "f32":
        arith = arith.replace("_dot", "_tile")
    peaks = ctx.get("roofline", {}).get("peaks", {})
    best = max((p["gflops"] for p in peaks.values() if p.get("arith") == arith), default=0)
    return best if arith != "f32" and best > 0 else float(ctx.get("peak_gflops", 0))


def fastest(results, layout, threads):
    """(dtype, tokens) -> (variant, runs) of the fastest verified layer variant."""
    best = {}
    for name, runs in cases(results, "layer", layout, threads).items():
        r = runs[0]
        if r.get("error_occurred") or not r.get("verified"):
            continue
        key = (r["dtype"], r["tokens"])
        if key not in best or median_ms(runs) < median_ms(best[key][1]):
            best[key] = (r["variant"], runs)
    return best


def limits(a, results):
    ctx = results["context"]
    peak = float(ctx.get("peak_gflops", 0))
    ours = fastest(results, a.layout, a.threads)
    if not ours:
        sys.exit(f"{a.results}: no layer results at layout {a.layout}, {a.threads} threads")
    peers = []
    for path in a.peer:
        with open(path) as f:
            peers.append((path, fastest(json.load(f), a.layout, a.threads)))
    probes = ctx.get("roofline", {}).get("peaks", {})
    # Each probe by name (f32_fma_512, bf16_dot_512, int8_dot_256, ...): one arithmetic can
    # have several widths, and which one a kernel runs is in its name.
    dots = (", peaks " + ", ".join(f"{name} {p['gflops']:.0f}" for name, p in probes.items())
            + " G ops/s") if probes else ""
    cpuid = ctx.get("cpuid")
    sig = (f", CPUID {cpuid.get('vendor')} family {cpuid.get('family')} model "
           f"{cpuid.get('model')} stepping {cpuid.get('stepping')}") if cpuid else ""
    print(f"From `{a.results}` ({ctx.get('cpu_model')}{sig}, {ctx.get('cores')} cores, "
          f"{ctx.get('compiler')}, commit {ctx.get('git_commit')}); layout {a.layout}, "
          f"{a.threads} threads; roofline {ctx.get('read_bandwidth_gbs', 0):.1f} GB/s, "
          f"{peak:.0f} GFLOP/s f32{dots}"
          + "".join(f"; peer `{p}`" for p, _ in peers) + ".\n")
    head = "| dtype | tokens | fastest strategy | activations | its time | % of roofline | " \
           "% of its peak | error vs f32 |"
    line = "|---|---|---|---|---|---|---|---|"
    for p, _ in peers:
        head += f" peer ({p.split('/')[-1]}) | moetune speedup |"
        line += "---|---|"
    print(head)
    print(line)
    order = {"f32": 0, "bf16": 1, "int8": 2}
    for (dtype, tokens) in sorted(ours, key=lambda k: (order.get(k[0], 9), k[1])):
        variant, runs = ours[(dtype, tokens)]
        ms = median_ms(runs)
        roof = statistics.median(r["roofline_pct"] for r in runs)
        gflops = statistics.median(r.get("flops_per_second", 0) for r in runs) / 1e9
        err = runs[0].get("rel_error_vs_f32")
        acts = runs[0].get("activations", "f32")
        row = (f"| {dtype} | {tokens} | `{variant}` | {acts} | {ms:.2f} ms | {roof:.1f}% | "
               f"{100 * gflops / peak_of(ctx, acts, runs[0].get('kernels')):.1f}% | "
               + (f"{err:.1e}" if err is not None else "-") + " |")
        for _, theirs in peers:
            # A peer's nearest weight type where it has not ours: llama.cpp's 8-bit one is q8_0
            # (blocks of 32 weights with one f16 scale; it also rounds x to 8 bits). The peer's
            # variant name shows which it was.
            key = next((k for k in ((dtype, tokens), (PEER_EQUIVALENT.get(dtype), tokens))
                        if k in theirs), None)
            if key:
                pv, pr = theirs[key]
                row += f" `{pv}` {median_ms(pr):.2f} ms | {median_ms(pr) / ms:.2f}x |"
            else:
                row += " - | - |"
        print(row)


if __name__ == "__main__":
    main()
