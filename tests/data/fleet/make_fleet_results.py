#!/usr/bin/env python3
"""Writes the synthetic results of tests/tuned_build/fleet.cmake: two machine classes measured
at the shapes of the tiny reference checkpoints (tests/data/e2e_sweep.yaml), where each class
has its own clear winner among the layer strategies, 2x faster than the default
(expert_parallel below 32 tokens), so that the tuned build's table is visible in what `moetune
layer` runs. Re-run after changing it: python3 tests/data/fleet/make_fleet_results.py"""
import json
import os

SHAPES = [(44, 20, 8, 2, 0, True), (36, 28, 6, 4, 52, False)]
CLASSES = {
    # This project's Zen 3 (AuthenticAMD family 25 model 1, AVX2 only).
    "zen3-avx2.json": ("AuthenticAMD/25/1/avx2/32K/512K/32768K", "AMD EPYC",
                       {"vendor": "AuthenticAMD", "family": 25, "model": 1, "stepping": 1},
                       "sse4.2 avx avx2 fma f16c", "layer_f32__row_parallel"),
    # This project's Xeon (GenuineIntel family 6 model 167, AVX-512, AMX; caches not recorded).
    "xeon-avx512-amx.json": (
        "GenuineIntel/6/167/avx2+avxvnni+avx512+avx512vnni+avx512bf16+amx/?/?/?",
        "Intel(R) Xeon(R) Processor",
        {"vendor": "GenuineIntel", "family": 6, "model": 167, "stepping": 1},
        "sse4.2 avx avx2 fma f16c avx512f avx512bw avx512dq avx512vl avx512bf16 avx512vnni "
        "avxvnni amxbf16 amxint8", "layer_f32__token_batched_4"),
}
DEFAULT = "layer_f32__expert_parallel"


def entries(variant, shape, tokens, threads, ns):
    h, i, e, k, s, norm = shape
    key = f"H{h}_I{i}_E{e}_k{k}_S{s}_{'norm' if norm else 'nonorm'}"
    name = f"layer/{variant}/{key}/f32/oi/tokens:{tokens}/threads:{threads}"
    out = []
    for r in range(6):
        t = ns * (1 + 0.02 * ((r * 5) % 6 / 5 - 0.5))
        out.append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": 6,
                    "threads": threads, "repetition_index": r, "iterations": 1000,
                    "real_time": t, "cpu_time": t, "time_unit": "ns", "op": "layer",
                    "variant": variant, "dtype": "f32", "layout": "oi", "tokens": tokens,
                    "hidden": h, "intermediate": i, "experts": e, "top_k": k,
                    "shared_intermediate": s, "norm_topk_prob": norm, "verified": True,
                    "roofline_pct": 10.0, "bytes_per_second": 1e9, "flops_per_second": 1e9})
    return out


here = os.path.dirname(os.path.abspath(__file__))
for file, (cls, model, cpuid, features, winner) in CLASSES.items():
    bench = []
    for shape in SHAPES:
        for tokens in (1, 5):
            for threads in (1, 2):
                bench += entries(DEFAULT, shape, tokens, threads, 1000.0)
                bench += entries(winner, shape, tokens, threads, 500.0)
    context = {"cpu_model": f"{model} (synthetic, tests/data/fleet)", "cpu_features": features,
               "cpuid": cpuid, "machine_class": cls, "cores": 2, "git_commit": "0000000synthetic",
               "moetune_version": "0.1.0", "sweep": "fleet-" + file.split(".")[0]}
    with open(os.path.join(here, file), "w") as f:
        # One line per entry: small, and diffs stay readable.
        f.write('{"context": ' + json.dumps(context) + ',\n "benchmarks": [\n')
        f.write(",\n".join("  " + json.dumps(b) for b in bench))
        f.write("\n ]}\n")
