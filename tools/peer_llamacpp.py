#!/usr/bin/env python3
"""Times llama.cpp's MoE FFN (through llama-cpp-python) as a peer of moetune's layer.

    tools/peer_llamacpp.py --sweep sweeps/qwen3-30b-a3b.yaml --moetune build/moetune -o llamacpp.json
    tools/peer_llamacpp.py --model qwen3-30b-a3b --tokens 1 --threads 2 --dtype f32 -o lc.json

Needs `pip install llama-cpp-python gguf` (llama-cpp-python compiles llama.cpp from source).

How: llama.cpp runs whole models, not one block, so this script writes a 1-layer `qwen3moe`
GGUF with random weights (gguf package): the preset's hidden, moe_intermediate, experts and
top_k; the experts in --dtype (f32, bf16 or q8_0), the router, norms, embeddings, attention and
output in f32 (as llama.cpp's converter keeps the router); a vocabulary of 4·T dummy tokens
(tokenizer "none"); one attention head of 64 with its query and key weights zero. It then times
llama_decode of T tokens (T = 1: a decode step), every token with logits so that every token
runs through the MoE FFN (llama.cpp gathers the output rows before the last layer's FFN).
The calls cycle through 4 inputs (other tokens, so other experts), each after clearing the KV
cache, so every call is the same step at position 0.

What else is in that timed path: the embedding row lookup, the one-head attention, three RMS
norms, the tiny output projection, graph scheduling, and the Python ctypes call. A control
model identical but for a negligible MoE (1 expert of intermediate 32) is timed the same way,
interleaved with the real one. Two variants per point:
  layer_<dtype>__llamacpp       each repetition of the decode call minus the control's median:
                                the MoE FFN (router, softmax, top-k, the experts' mul_mat_id,
                                weighting) alone, an estimate; recorded as failed when a
                                repetition is no slower than the control (too noisy to tell);
  layer_<dtype>__llamacpp_step  the whole decode call as timed: an upper bound.
Both entries keep step_us (the decode call's median) and overhead_us (the control's).

verified = true when llama.cpp's logits for every token of the first two inputs match a
float64 implementation of the same 1-layer model written here (embedding, attention reduced to
the mean of V over the causal prefix by the zero query and key weights, RMS norms, DESIGN §1's
MoE on the GGUF's exact weights, output projection) within 1e-3 (f32), 2e-2 (bf16) or 5e-2
(q8_0, which also rounds the activations to 8 bits) of each token's largest logit, and the MoE
moves those logits by at least 3 times that tolerance
(`moe_sensitivity`), so a wrong MoE cannot pass. Only qwen3_moe shapes (no shared expert,
norm_topk_prob true): llama.cpp's qwen3moe graph always normalises the top-k weights; other
shapes are recorded as failed with the reason.

roofline_pct and the rest as tools/peer_pytorch.py: bytes of the router (f32), the distinct
experts the routing selected (at the experts' element size; q8_0 34 bytes per 32 weights), the
input and the output (f32).
"""
import ctypes
import hashlib
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_results as pr  # noqa: E402

RING = 4
VERIFIED_INPUTS = 2
TOLERANCE = {"f32": 1e-3, "bf16": 2e-2, "q8_0": 5e-2}
HEAD_DIM = 64
RMS_EPS = 1e-6
FORMAT_VERSION = 3  # of the GGUF files this script writes (part of the cache key)
CONTROL = dict(intermediate=32, experts=1, top_k=1)


def import_llama():
    try:
        import llama_cpp
        import gguf
    except ImportError as e:
        raise pr.PeerError("needs llama-cpp-python and gguf (pip install llama-cpp-python gguf): "
                           "{}".format(e)) from e
    return llama_cpp, gguf


# --- the model --------------------------------------------------------------------------------

def model_weights(np, shape, vocab, seed):
    """f32 numpy weights, [out, in] as in the GGUF (ggml stores the rows of [out, in])."""
    rng = np.random.default_rng(seed)
    H, I, E = shape["hidden"], shape["intermediate"], shape["experts"]

    def normal(std, *dims):
        return (rng.standard_normal(dims, dtype=np.float32) * std).astype(np.float32)
    return {
        "token_embd.weight": rng.uniform(-1, 1, (vocab, H)).astype(np.float32),
        "output_norm.weight": np.ones(H, np.float32),
        "output.weight": normal(0.02, vocab, H),
        "blk.0.attn_norm.weight": np.ones(H, np.float32),
        "blk.0.attn_q.weight": np.zeros((HEAD_DIM, H), np.float32),
        "blk.0.attn_k.weight": np.zeros((HEAD_DIM, H), np.float32),
        "blk.0.attn_v.weight": normal(0.02, HEAD_DIM, H),
        "blk.0.attn_output.weight": normal(0.02, H, HEAD_DIM),
        "blk.0.attn_q_norm.weight": np.ones(HEAD_DIM, np.float32),
        "blk.0.attn_k_norm.weight": np.ones(HEAD_DIM, np.float32),
        "blk.0.ffn_norm.weight": np.ones(H, np.float32),
        "blk.0.ffn_gate_inp.weight": normal(0.02, E, H),
        # Scaled so that the experts' output is of the order of the residual whatever the
        # shape: the check of the logits must see a wrong MoE.
        "blk.0.ffn_gate_exps.weight": normal(H ** -0.5, E, I, H),
        "blk.0.ffn_up_exps.weight": normal(H ** -0.5, E, I, H),
        "blk.0.ffn_down_exps.weight": normal(3 * I ** -0.5, E, H, I),
    }


EXPERT_TENSORS = ("blk.0.ffn_gate_exps.weight", "blk.0.ffn_up_exps.weight",
                  "blk.0.ffn_down_exps.weight")


def write_gguf(gguf, np, path, shape, dtype, vocab, seed):
    """Writes the model; returns its weights as llama.cpp sees them (the experts rounded to
    dtype and back, exactly), for the reference."""
    w = model_weights(np, shape, vocab, seed)
    qtype = {"f32": gguf.GGMLQuantizationType.F32, "bf16": gguf.GGMLQuantizationType.BF16,
             "q8_0": gguf.GGMLQuantizationType.Q8_0}[dtype]
    writer = gguf.GGUFWriter(path + ".tmp", "qwen3moe")
    writer.add_name("moetune peer: 1-layer random qwen3moe")
    writer.add_block_count(1)
    writer.add_context_length(4096)
    writer.add_embedding_length(shape["hidden"])
    writer.add_feed_forward_length(shape["intermediate"])
    writer.add_expert_feed_forward_length(shape["intermediate"])
    writer.add_expert_count(shape["experts"])
    writer.add_expert_used_count(shape["top_k"])
    writer.add_head_count(1)
    writer.add_head_count_kv(1)
    writer.add_key_length(HEAD_DIM)
    writer.add_value_length(HEAD_DIM)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(1e6)
    writer.add_layer_norm_rms_eps(RMS_EPS)
    writer.add_tokenizer_model("none")
    writer.add_vocab_size(vocab)
    for name, t in w.items():
        if name in EXPERT_TENSORS and dtype != "f32":
            q = gguf.quants.quantize(t, qtype)
            writer.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)
            w[name] = gguf.quants.dequantize(q, qtype).reshape(t.shape).astype(np.float32)
        else:
            writer.add_tensor(name, t)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(path + ".tmp", path)
    return w


def cached_model(gguf, np, cache_dir, shape, dtype, vocab, seed):
    key = "v{}-{}-{}-V{}-s{}".format(FORMAT_VERSION, pr.shape_key(shape), dtype, vocab, seed)
    path = os.path.join(cache_dir, "qwen3moe-" + hashlib.sha1(key.encode()).hexdigest()[:12] +
                        "-" + key + ".gguf")
    os.makedirs(cache_dir, exist_ok=True)
    if os.path.exists(path):
        # The weights are made again from the seed (the file holds the same ones).
        w = model_weights(np, shape, vocab, seed)
        if dtype != "f32":
            qtype = getattr(gguf.GGMLQuantizationType, dtype.upper())
            for name in EXPERT_TENSORS:
                q = gguf.quants.quantize(w[name], qtype)
                w[name] = gguf.quants.dequantize(q, qtype).reshape(w[name].shape)
        return path, w
    print("  writing {}".format(path), file=sys.stderr)
    return path, write_gguf(gguf, np, path, shape, dtype, vocab, seed)


# --- the float64 reference ------------------------------------------------------------------

def rms(np, x):
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + RMS_EPS)


def reference(np, w, shape, tokens, with_moe=True):
    """Logits [T, vocab] of the 1-layer model in float64, and the distinct experts routed to."""
    d = lambda name: w[name].astype(np.float64)  # noqa: E731
    x = d("token_embd.weight")[tokens]
    v = rms(np, x) @ d("blk.0.attn_v.weight").T
    mean_v = np.cumsum(v, axis=0) / np.arange(1, len(tokens) + 1)[:, None]  # causal, uniform
    h = x + mean_v @ d("blk.0.attn_output.weight").T
    f = rms(np, h)
    y = h.copy()
    logits = f @ d("blk.0.ffn_gate_inp.weight").T
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    k, I = shape["top_k"], shape["intermediate"]
    chosen = [sorted(range(p.shape[1]), key=lambda e: (-p[t, e], e))[:k] for t in range(len(tokens))]
    distinct = sorted({e for c in chosen for e in c})
    if with_moe:
        gate, up = w["blk.0.ffn_gate_exps.weight"], w["blk.0.ffn_up_exps.weight"]
        down = w["blk.0.ffn_down_exps.weight"]
        for e in distinct:
            rows = [t for t in range(len(tokens)) if e in chosen[t]]
            ft = f[rows]
            g = ft @ gate[e].astype(np.float64).T
            u = ft @ up[e].astype(np.float64).T
            act = g / (1 + np.exp(-g)) * u
            out = act @ down[e].astype(np.float64).T
            for j, t in enumerate(rows):
                wt = p[t, e] / sum(p[t, c] for c in chosen[t])  # norm_topk_prob
                y[t] += wt * out[j]
    return rms(np, y) @ d("output.weight").T, len(distinct)


# --- llama.cpp ----------------------------------------------------------------------------

class Runner:
    """One model and one context: decode of T tokens, after clearing the KV cache."""

    def __init__(self, L, path, tokens, threads, ring_tokens, vocab):
        self.L, self.tokens, self.vocab = L, tokens, vocab
        mp = L.llama_model_default_params()
        mp.n_gpu_layers = 0
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            raise RuntimeError("llama.cpp could not load " + path)
        cp = L.llama_context_default_params()
        cp.n_ctx = max(256, tokens)
        cp.n_batch = cp.n_ubatch = max(tokens, 1)
        cp.n_seq_max = 1
        cp.n_threads = cp.n_threads_batch = threads
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not make a context for " + path)
        self.mem = L.llama_get_memory(self.ctx)
        self.batches = []
        for ids in ring_tokens:
            b = L.llama_batch_init(tokens, 0, 1)
            b.n_tokens = tokens
            for i, tok in enumerate(ids):
                b.token[i] = tok
                b.pos[i] = i
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = 0
                b.logits[i] = 1
            self.batches.append(b)

    def __call__(self, i):
        self.L.llama_memory_clear(self.mem, True)
        rc = self.L.llama_decode(self.ctx, self.batches[i % RING])
        if rc != 0:
            raise RuntimeError("llama_decode returned {}".format(rc))

    def logits(self, np):
        ptr = self.L.llama_get_logits(self.ctx)
        return np.ctypeslib.as_array(ptr, shape=(self.tokens, self.vocab)).astype(np.float64)

    def close(self):
        for b in self.batches:
            self.L.llama_batch_free(b)
        self.L.llama_free(self.ctx)
        self.L.llama_model_free(self.model)


def verify(np, runner, w, shape, ring_tokens, dtype):
    """Returns (problem or "", max relative error, smallest sensitivity)."""
    worst, sensitivity = 0.0, float("inf")
    for r in range(VERIFIED_INPUTS):
        runner(r)
        got = runner.logits(np)
        want, _ = reference(np, w, shape, ring_tokens[r])
        without, _ = reference(np, w, shape, ring_tokens[r], with_moe=False)
        for t in range(len(ring_tokens[r])):
            scale = np.abs(want[t]).max()
            rel = np.abs(got[t] - want[t]).max() / scale
            worst = max(worst, rel)
            sensitivity = min(sensitivity, np.abs(without[t] - want[t]).max() / scale)
            if not rel <= TOLERANCE[dtype]:
                return ("input {} token {}: logits off by {:.3g} of the largest (> {:g})".format(
                    r, t, rel, TOLERANCE[dtype]), worst, sensitivity)
    if sensitivity < 3 * TOLERANCE[dtype]:
        return ("the MoE moves the logits by only {:.3g} of the largest: the check could not "
                "tell a wrong MoE".format(sensitivity), worst, sensitivity)
    return "", worst, sensitivity


def new_case(variant, shape, dtype, tokens, threads, error=""):
    return {"name": pr.case_id("layer", variant, shape, dtype, "oi", tokens, threads),
            "op": "layer", "variant": variant, "dtype": dtype, "layout": "oi", "shape": shape,
            "tokens": tokens, "threads": threads, "verified": False, "error": error,
            "time_unit": "us", "repetitions": [], "extra": {}}


def run_point(L, np, models, shape, dtype, tokens, threads, plan, roofline, vocab):
    """Two cases at one point: layer_<dtype>__llamacpp, the MoE FFN (each repetition of the
    decode call minus the control model's median), and layer_<dtype>__llamacpp_step, the whole
    decode call (an upper bound). The model and the control are timed interleaved."""
    path, w = models["model"]
    ring = [[(r * tokens + i) % vocab for i in range(tokens)] for r in range(RING)]
    moe = new_case("layer_{}__llamacpp".format(dtype), shape, dtype, tokens, threads)
    step = new_case("layer_{}__llamacpp_step".format(dtype), shape, dtype, tokens, threads)
    costs = [pr.layer_cost(shape, tokens, reference(np, w, shape, ids, with_moe=False)[1],
                           pr.DTYPE_BYTES[dtype], 4, router_bytes=4) for ids in ring]
    nbytes = sum(c[0] for c in costs) / RING
    flops = sum(c[1] for c in costs) / RING
    bound = roofline.seconds_for(nbytes, flops, threads) if roofline else None
    runner = control = None
    try:
        runner = Runner(L, path, tokens, threads, ring, vocab)
        control = Runner(L, models["control"][0], tokens, threads, ring, vocab)
        problem, worst, sensitivity = verify(np, runner, w, shape, ring, dtype)
        for c in (moe, step):
            c["extra"].update(max_rel_error=worst, moe_sensitivity=sensitivity)
            c["error"] = "verification failed: " + problem if problem else ""
            c["verified"] = not problem
        if problem:
            return [moe, step]
        est = {"model": pr.warm_up(runner), "control": pr.warm_up(control)}
        order = ["model", "control"]
        rng = random.Random(plan["seed"])
        got = {"model": [], "control": []}
        for _ in range(plan["repetitions"]):
            rng.shuffle(order)
            for which in order:
                got[which].append(pr.repetition(runner if which == "model" else control,
                                                est[which], plan["min_time"]))
        overhead = statistics.median(r[0] for r in got["control"])
        overhead_cpu = statistics.median(r[1] for r in got["control"])
        for real, cpu, iters in got["model"]:
            step["repetitions"].append(pr.repetition_record(real, cpu, iters, nbytes, flops,
                                                            bound))
            if real - overhead > 0:
                moe["repetitions"].append(pr.repetition_record(
                    real - overhead, max(cpu - overhead_cpu, 0.0), iters, nbytes, flops, bound))
        step_us = statistics.median(r[0] for r in got["model"]) * 1e6
        for c in (moe, step):
            c["extra"].update(step_us=step_us, overhead_us=overhead * 1e6)
        if len(moe["repetitions"]) < len(got["model"]):
            moe["repetitions"] = []
            fastest = min(r[0] for r in got["model"])
            moe["error"] = ("a repetition of the model ({:.1f} us) was no slower than the "
                            "control's median ({:.1f} us): too noisy to tell the MoE from the "
                            "rest".format(fastest * 1e6, overhead * 1e6))
        else:
            print("  {}: median {:.1f} us (decode call {:.1f} us - control {:.1f} us){}".format(
                moe["name"], step_us - overhead * 1e6, step_us, overhead * 1e6,
                "" if bound is None else " ({:.1f}% of roofline)".format(
                    100 * bound * 1e6 / (step_us - overhead * 1e6))), file=sys.stderr)
    except RuntimeError as e:
        moe["error"] = step["error"] = str(e)
    finally:
        for r in (runner, control):
            if r:
                r.close()
    return [moe, step]


def main():
    ap = pr.argument_parser(__doc__)
    ap.add_argument("--dtype", default="f32,bf16,q8_0", help="experts' type: f32, bf16, q8_0 "
                    "(llama.cpp's 8-bit type, the peer of moetune's int8; default all three)")
    ap.add_argument("--cache-dir", default=os.path.join(os.path.expanduser("~"), ".cache",
                                                        "moetune-peers"),
                    help="where the GGUF files are kept between runs")
    args = ap.parse_args()
    try:
        plan = pr.plan_from_args(args)
        dtypes = pr.dtype_list(args.dtype, list(TOLERANCE))
        roofline = pr.load_roofline(args, max(plan["threads"]))
        L, gguf = import_llama()
    except pr.PeerError as e:
        print("peer_llamacpp: {}".format(e), file=sys.stderr)
        return 2
    import numpy as np

    L.llama_backend_init()
    quiet = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(
        lambda level, text, data: None)
    L.llama_log_set(quiet, None)
    vocab = max(4 * max(plan["tokens"]), 32)
    cases = []
    for shape in plan["shapes"]:
        for dtype in dtypes:
            if shape["shared_intermediate"] > 0 or not shape["norm_topk_prob"]:
                for tokens in plan["tokens"]:
                    for threads in plan["threads"]:
                        cases.append(new_case(
                            "layer_{}__llamacpp".format(dtype), shape, dtype, tokens, threads,
                            "not supported: llama.cpp's qwen3moe graph has no shared expert and "
                            "always normalises the top-k weights"))
                continue
            control_shape = dict(shape, **CONTROL)
            models = {"model": cached_model(gguf, np, args.cache_dir, shape, dtype, vocab,
                                            plan["seed"]),
                      "control": cached_model(gguf, np, args.cache_dir, control_shape, dtype,
                                              vocab, plan["seed"])}
            for tokens in plan["tokens"]:
                for threads in plan["threads"]:
                    print("{} {} tokens:{} threads:{}".format(shape["model"], dtype, tokens,
                                                              threads), file=sys.stderr)
                    for c in run_point(L, np, models, shape, dtype, tokens, threads, plan,
                                       roofline, vocab):
                        cases.append(c)
                        if c["error"]:
                            print("  {}: {}".format(c["name"], c["error"]), file=sys.stderr)
    system = L.llama_print_system_info().decode(errors="replace").strip()
    extra = {"llama_cpp_python_version": getattr(L, "__version__", "unknown"),
             "llama_cpp_system_info": system, "gguf_vocab": vocab,
             "timed": "llama_decode of T tokens, and the same minus a control model with a "
                      "negligible MoE"}
    return pr.finish(args, plan, roofline, "llama.cpp", extra, cases)

if __name__ == "__main__":
    sys.exit(main())
