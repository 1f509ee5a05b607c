"""What the peer scripts (tools/peer_*.py) share: sweep files, shapes and names, the roofline,
timing, and writing moetune's results format (DESIGN §5), as harness/results.cpp writes it.

Standard library only (PyYAML for sweep files); the peers import it from tools/.
"""
import argparse
import datetime
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

# DESIGN §1 presets: hidden, intermediate, experts, top_k, shared_intermediate, norm_topk_prob.
PRESETS = {
    "qwen3-30b-a3b": dict(hidden=2048, intermediate=768, experts=128, top_k=8,
                          shared_intermediate=0, norm_topk_prob=True),
    "qwen3-235b-a22b": dict(hidden=4096, intermediate=1536, experts=128, top_k=8,
                            shared_intermediate=0, norm_topk_prob=True),
    "qwen1.5-moe-a2.7b": dict(hidden=2048, intermediate=1408, experts=60, top_k=4,
                              shared_intermediate=5632, norm_topk_prob=False),
    "qwen2-57b-a14b": dict(hidden=3584, intermediate=2560, experts=64, top_k=8,
                           shared_intermediate=20480, norm_topk_prob=False),
}
SHAPE_KEYS = ("hidden", "intermediate", "experts", "top_k", "shared_intermediate",
              "norm_topk_prob")
DTYPE_BYTES = {"f32": 4, "bf16": 2, "f16": 2, "q8_0": 34 / 32}


class PeerError(Exception):
    """A bad argument or input file: the script prints it and exits with status 2."""


def shape_key(s):
    """variants/moe_shape.cpp MoeShape::key()."""
    return "H{}_I{}_E{}_k{}_S{}{}".format(s["hidden"], s["intermediate"], s["experts"], s["top_k"],
                                          s["shared_intermediate"],
                                          "_norm" if s["norm_topk_prob"] else "_nonorm")


def case_id(op, variant, shape, dtype, layout, tokens, threads):
    """harness/sweep_config.cpp case_id(): the benchmark name of every moetune entry."""
    return "{}/{}/{}/{}/{}/tokens:{}/threads:{}".format(op, variant, shape_key(shape), dtype,
                                                        layout, tokens, threads)


def preset_shape(name):
    if name not in PRESETS:
        raise PeerError("unknown model preset '{}'; expected one of: {}".format(
            name, ", ".join(PRESETS)))
    return dict(PRESETS[name], model=name)


def read_sweep(path):
    """The shapes, tokens, threads, repetitions, min_time and seed of a moetune sweep file
    (DESIGN §4). moetune itself validates sweep files fully; this reads what a peer needs."""
    try:
        import yaml
    except ImportError as e:
        raise PeerError("reading a sweep file needs PyYAML (pip install pyyaml)") from e
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise PeerError("{}: {}".format(path, e)) from e
    if not isinstance(doc, dict) or "shapes" not in doc or "tokens" not in doc:
        raise PeerError("{}: expected a moetune sweep with 'shapes' and 'tokens'".format(path))
    shapes = []
    for i, item in enumerate(doc["shapes"]):
        if isinstance(item, dict) and "model" in item:
            shapes.append(preset_shape(item["model"]))
        elif isinstance(item, dict) and all(k in item for k in SHAPE_KEYS[:4]):
            s = dict(shared_intermediate=0, norm_topk_prob=True)
            s.update({k: item[k] for k in SHAPE_KEYS if k in item})
            s["model"] = shape_key(s)
            shapes.append(s)
        else:
            raise PeerError("{}: shapes[{}]: expected {{model: NAME}} or {{{}}}".format(
                path, i, ", ".join(SHAPE_KEYS)))
    return {
        "name": doc.get("name", os.path.splitext(os.path.basename(path))[0]),
        "file": path,
        "shapes": shapes,
        "tokens": [int(t) for t in doc["tokens"]],
        "threads": [int(t) for t in doc.get("threads", [os.cpu_count()])],
        "repetitions": int(doc.get("repetitions", 5)),
        "min_time": float(doc.get("min_time", 0.1)),
        "seed": int(doc.get("seed", 1)),
    }


def int_list(text):
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as e:
        raise PeerError("expected a comma-separated list of integers, got '{}'".format(text)) from e


def plan_from_args(args):
    """Shapes, tokens, threads, repetitions, min_time, seed: from --sweep, then --model,
    --tokens, --threads, --repetitions, --min-time given on the command line win."""
    if args.sweep:
        plan = read_sweep(args.sweep)
    else:
        plan = {"name": None, "file": None, "shapes": [], "tokens": [1],
                "threads": [os.cpu_count()], "repetitions": 5, "min_time": 0.1, "seed": 1}
    if args.model:
        plan["shapes"] = [preset_shape(m) for m in args.model.split(",") if m.strip()]
    if args.tokens:
        plan["tokens"] = int_list(args.tokens)
    if args.threads:
        plan["threads"] = int_list(args.threads)
    if args.repetitions is not None:
        plan["repetitions"] = args.repetitions
    if args.min_time is not None:
        plan["min_time"] = args.min_time
    if not plan["shapes"]:
        raise PeerError("no shape: give --sweep FILE.yaml or --model PRESET")
    if plan["repetitions"] < 1 or plan["min_time"] <= 0:
        raise PeerError("--repetitions must be at least 1 and --min-time positive")
    if any(t < 1 for t in plan["tokens"] + plan["threads"]):
        raise PeerError("tokens and threads must be at least 1")
    return plan


def argument_parser(doc):
    """The parser every peer starts from: the script's docstring as help, the plan's options."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(doc.splitlines()[2:]))
    add_plan_arguments(ap)
    return ap


def dtype_list(text, allowed):
    """--dtype's comma-separated list, each one of `allowed`."""
    dtypes = [d for d in text.split(",") if d]
    for d in dtypes:
        if d not in allowed:
            raise PeerError("--dtype: expected {}, got '{}'".format(" or ".join(allowed), d))
    return dtypes


def add_plan_arguments(ap):
    ap.add_argument("--sweep", help="a moetune sweep YAML: its shapes, tokens, threads, "
                    "repetitions, min_time and seed")
    ap.add_argument("--model", help="preset(s), comma-separated: " + ", ".join(PRESETS))
    ap.add_argument("--tokens", help="token counts, e.g. 1,16,128 (default 1)")
    ap.add_argument("--threads", help="thread counts, e.g. 1,2 (default: the cores)")
    ap.add_argument("--repetitions", type=int, help="repetitions per case (default 5)")
    ap.add_argument("--min-time", type=float, help="seconds per repetition (default 0.1)")
    ap.add_argument("--roofline-json", help="for roofline_pct: the output of `moetune roofline "
                    "--json`, or a moetune results file (its sweep's roofline)")
    ap.add_argument("--moetune", help="a moetune binary: runs `moetune roofline --json` for "
                    "roofline_pct (unless --roofline-json is given)")
    ap.add_argument("-o", "--output", required=True, help="results JSON to write")


# --- the machine ------------------------------------------------------------------------------

def cpu_model():
    """kernels/common/isa.cpp cpu_model_name(): the first 'model name' of /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_features():
    """The features moetune's fingerprint lists (kernels/common/isa.cpp cpu_features()), read
    from /proc/cpuinfo's flags, so that `moetune compare` finds the same machine."""
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    names = [("sse4_2", "sse4.2"), ("avx", "avx"), ("avx2", "avx2"), ("fma", "fma"),
             ("f16c", "f16c"), ("avx512f", "avx512f"), ("avx512bw", "avx512bw"),
             ("avx512dq", "avx512dq"), ("avx512vl", "avx512vl"), ("avx512_bf16", "avx512bf16"),
             ("avx512_vnni", "avx512vnni")]
    return " ".join(ours for theirs, ours in names if theirs in flags)


def fingerprint(peer, extra):
    """The results' context: the machine as moetune's fingerprint describes it (no compiler:
    a peer is not built by moetune's), the peer, and the run."""
    ctx = {
        "cpu_model": cpu_model(),
        "cpu_features": cpu_features(),
        "cores": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(
            timespec="seconds"),
        "host_name": platform.node(),
        "peer": peer,
        "python": platform.python_version(),
    }
    ctx.update(extra)
    return ctx


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- the roofline (harness/roofline.cpp) -----------------------------------------------------

class Roofline:
    """`moetune roofline --json`; seconds_for() is RooflineResult::seconds_for()."""

    def __init__(self, j):
        self.json = j
        self.threads = int(j["threads"])
        self.bandwidth = float(j["read_bandwidth_gbs"])
        self.peak = float(j["peak_gflops"])
        single = j.get("single_thread", {})
        self.single_bandwidth = float(single.get("read_bandwidth_gbs", self.bandwidth))
        self.single_peak = float(single.get("peak_gflops", self.peak))

    def bound_for(self, threads):
        if threads <= 1:
            return self.single_bandwidth, self.single_peak
        return (min(self.bandwidth, self.single_bandwidth * threads),
                min(self.peak, self.single_peak * threads))

    def seconds_for(self, nbytes, flops, threads):
        bw, peak = self.bound_for(threads)
        memory = nbytes / (bw * 1e9) if bw > 0 else 0.0
        compute = flops / (peak * 1e9) if peak > 0 else 0.0
        return max(memory, compute)


def load_roofline(args, threads):
    if args.roofline_json:
        try:
            with open(args.roofline_json) as f:
                j = json.load(f)
            # A moetune results file: the roofline its sweep measured, so that both files
            # quote the same bound.
            if "context" in j and "roofline" in j["context"]:
                j = j["context"]["roofline"]
            return Roofline(j)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise PeerError("{}: neither the output of `moetune roofline --json` nor a moetune "
                            "results file with a roofline: {}".format(args.roofline_json, e)) from e
    if args.moetune:
        cmd = [args.moetune, "roofline", "--json", "--threads", str(threads)]
        try:
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            return Roofline(json.loads(out))
        except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
            raise PeerError("{} failed: {}".format(" ".join(cmd), e)) from e
    return None


def layer_cost(shape, tokens, distinct_experts, weight_bytes, act_bytes, router_bytes=None):
    """harness/layer_bench.cpp layer_cost() with variants/routing.cpp routed_weight_bytes():
    bytes of the router (at router_bytes per weight, default the experts'), of the distinct
    experts the routing selected and of the shared expert (at the weights' element size), and
    the input and output (at the activations'); flops of the router, the routed experts and the
    shared expert."""
    H, I, E, S = shape["hidden"], shape["intermediate"], shape["experts"], \
        shape["shared_intermediate"]
    router_bytes = weight_bytes if router_bytes is None else router_bytes
    nbytes = E * H * router_bytes + distinct_experts * 3 * I * H * weight_bytes
    if S > 0:
        nbytes += 3 * S * H * weight_bytes + H * weight_bytes
    nbytes += 2.0 * tokens * H * act_bytes
    flops = tokens * 2.0 * E * H + tokens * shape["top_k"] * 6.0 * I * H
    if S > 0:
        flops += tokens * (6.0 * S * H + 2.0 * H)
    return float(nbytes), float(flops)


# --- timing ---------------------------------------------------------------------------------

def time_calls(call, iterations):
    """Runs call(i) for i in range(iterations): (wall seconds, this thread's CPU seconds) per
    call, as Google Benchmark's real_time and cpu_time (UseRealTime; the main thread's CPU)."""
    c0, t0 = time.thread_time(), time.perf_counter()
    for i in range(iterations):
        call(i)
    t1, c1 = time.perf_counter(), time.thread_time()
    return (t1 - t0) / iterations, (c1 - c0) / iterations


def warm_up(call, seconds=0.2, at_least=2):
    """Calls until `seconds` have passed (at least `at_least` calls); returns the seconds per
    call of the last half, the estimate that sizes the repetitions."""
    n, start = 0, time.perf_counter()
    while True:
        t0 = time.perf_counter()
        call(n)
        last = time.perf_counter() - t0
        n += 1
        if n >= at_least and time.perf_counter() - start >= seconds:
            return max(last, 1e-9)


def repetition(call, estimate, min_time):
    """One repetition as Google Benchmark runs one: enough iterations to fill min_time (more
    when the estimate was short). Returns (real s/call, cpu s/call, iterations)."""
    iterations = max(1, math.ceil(min_time / estimate))
    while True:
        real, cpu = time_calls(call, iterations)
        if real * iterations >= min_time * 0.9 or iterations >= 1e9:
            return real, cpu, iterations
        iterations = max(iterations + 1, math.ceil(min_time / max(real, 1e-9) * 1.1))


# --- results (harness/results.cpp case_entries) ---------------------------------------------

def _identity(case):
    s = case["shape"]
    j = {"op": case["op"], "variant": case["variant"], "dtype": case["dtype"],
         "layout": case["layout"], "tokens": case["tokens"], "hidden": s["hidden"],
         "intermediate": s["intermediate"], "experts": s["experts"], "top_k": s["top_k"],
         "shared_intermediate": s["shared_intermediate"],
         "norm_topk_prob": s["norm_topk_prob"], "verified": case["verified"]}
    j.update(case.get("extra", {}))
    return j


def _head(case, name, run_type):
    return {"name": name, "run_name": case["name"], "run_type": run_type,
            "repetitions": max(len(case["repetitions"]), 1), "threads": case["threads"]}


def _stddev(v):
    return statistics.stdev(v) if len(v) > 1 else 0.0


def _cv(v):
    m = statistics.fmean(v)
    return _stddev(v) / m if m else 0.0


def case_entries(case):
    """Google Benchmark entries of one case: one iteration run per repetition, then mean,
    median, stddev and cv (a fraction, aggregate_unit 'percentage', as Google Benchmark 1.7
    writes it); a failed case is one entry with error_occurred and no aggregates.

    case: name, op, variant, dtype, layout, shape, tokens, threads, verified, error ("" when it
    ran), time_unit, repetitions [{real_time, cpu_time, iterations, roofline_pct (or None),
    bytes_per_second, flops_per_second}], extra (more identity fields)."""
    unit = case.get("time_unit", "us")
    if case.get("error") or not case["repetitions"]:
        j = _head(case, case["name"], "iteration")
        j.update({"repetition_index": 0, "iterations": 0, "real_time": 0.0, "cpu_time": 0.0,
                  "time_unit": unit, "error_occurred": True,
                  "error_message": case.get("error") or "no repetitions"})
        j.update(_identity(case))
        j["verified"] = False
        j["error"] = j["error_message"]
        return [j]
    out = []
    reps = case["repetitions"]
    has_roofline = all(r.get("roofline_pct") is not None for r in reps)
    for i, r in enumerate(reps):
        j = _head(case, case["name"], "iteration")
        j.update({"repetition_index": i, "iterations": r["iterations"],
                  "real_time": r["real_time"], "cpu_time": r["cpu_time"], "time_unit": unit})
        j.update(_identity(case))
        if has_roofline:
            j["roofline_pct"] = r["roofline_pct"]
        j["bytes_per_second"] = r["bytes_per_second"]
        j["flops_per_second"] = r["flops_per_second"]
        out.append(j)
    aggregates = [("mean", statistics.fmean), ("median", statistics.median),
                  ("stddev", _stddev), ("cv", _cv)]
    fields = ["real_time", "cpu_time", "bytes_per_second", "flops_per_second"]
    if has_roofline:
        fields.append("roofline_pct")
    for name, fn in aggregates:
        j = _head(case, case["name"] + "_" + name, "aggregate")
        j.update({"aggregate_name": name,
                  "aggregate_unit": "percentage" if name == "cv" else "time",
                  "iterations": len(reps), "time_unit": unit})
        j.update(_identity(case))
        for field in fields:
            j[field] = fn([r[field] for r in reps])
        out.append(j)
    return out


def write_results(path, context, cases):
    """The results file, atomically: a temporary file in the same directory, fsync, rename."""
    benchmarks = [e for c in cases for e in case_entries(c)]
    text = json.dumps({"context": context, "benchmarks": benchmarks}, indent=2) + "\n"
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp.", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def finish(args, plan, roofline, peer, extra, cases):
    """Writes the results of a peer run: its context (the machine, the peer's `extra`, the
    run's plan and roofline) and cases; says so on stderr. Returns the exit status, 0."""
    extra = dict(extra, threads=plan["threads"], tokens=plan["tokens"],
                 repetitions=plan["repetitions"], min_time=plan["min_time"], seed=plan["seed"],
                 peak_rss_bytes=peak_rss_bytes())
    if plan["name"]:
        extra.update(sweep=plan["name"], sweep_file=plan["file"])
    if roofline:
        extra.update(roofline=roofline.json, read_bandwidth_gbs=roofline.bandwidth,
                     peak_gflops=roofline.peak)
    write_results(args.output, fingerprint(peer, extra), cases)
    print("written {} ({} cases, {} failed)".format(
        args.output, len(cases), sum(1 for c in cases if c.get("error"))), file=sys.stderr)
    return 0


def repetition_record(real_s, cpu_s, iterations, nbytes, flops, bound_s):
    """A repetition in the results' units (us), with its rates and roofline_pct (None without
    a roofline)."""
    return {"real_time": real_s * 1e6, "cpu_time": cpu_s * 1e6, "iterations": iterations,
            "bytes_per_second": nbytes / real_s, "flops_per_second": flops / real_s,
            "roofline_pct": 100.0 * bound_s / real_s if bound_s is not None else None}
