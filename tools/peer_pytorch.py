#!/usr/bin/env python3
"""Times transformers' own sparse MoE block on PyTorch, as a peer of moetune's layer.

    tools/peer_pytorch.py --sweep sweeps/qwen3-30b-a3b.yaml --moetune build/moetune -o pytorch.json
    tools/peer_pytorch.py --model qwen3-30b-a3b --tokens 1,16 --threads 2 --dtype f32 -o pt.json

What is timed: one call of Qwen3MoeSparseMoeBlock (qwen3_moe presets) or Qwen2MoeSparseMoeBlock
(qwen2_moe presets, with the shared expert), built from a Qwen3MoeConfig / Qwen2MoeConfig with the
preset's hidden, moe_intermediate, experts, top_k, shared expert and norm_topk_prob, random
weights, eval(), under torch.inference_mode(), with torch.set_num_threads(threads), on an input
[1, T, H]: the router, softmax, top-k and the experts as transformers runs them. T = 1 is a
decode step, as moetune's incremental_forward. Like moetune's layer benchmark, the calls cycle
through 4 inputs, so consecutive calls route to other experts.

dtypes (--dtype): f32, and bf16 = the whole block in bfloat16 (weights, activations and the
router; the input is converted before timing), as transformers runs a bf16 checkpoint.
Experts implementations (--experts-impl): transformers 5 dispatches the experts through
config._experts_implementation: `eager` is the block's own loop over the experts hit,
`grouped_mm` is what from_pretrained picks by default in transformers 5.x, `batched_mm` the
third. Each is a variant: layer_<dtype>__pytorch_<impl>.

verified = true when, on the first two inputs of the ring, (1) the block's experts are those of
an independent float64 implementation of the layer (DESIGN §1, written below, not transformers'
code) on the same weights (bf16 weights upcast exactly), but where the two differ only through a
near tie (the k-th probability and the other expert's within 1e-5 (f32) or 2e-2 (bf16) of each
other, counted in `routing_near_ties`), and (2) the block's output matches that float64 layer
run with the block's own experts within 1e-3 (f32) or 5e-2 (bf16) of each token's largest
output, as moetune's layer check does. `max_rel_error` records the largest error seen. A case
that fails the check is recorded as failed with the reason and never timed.

Results: moetune's results format (DESIGN §5), the same benchmark names as moetune's layer
entries but for the variant, so `moetune compare --match point` and `moetune report` line them
up. roofline_pct counts the bytes of the router, the distinct experts the routing selected (and
the shared expert) at the weights' element size, input and output at the activations', against
the bandwidth and peak of `moetune roofline --json` (--roofline-json FILE, or --moetune BIN to
run it); without either it is left out.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_results as pr  # noqa: E402

RING = 4                # inputs the timed calls cycle through (harness/layer_bench.cpp kInputRing)
VERIFIED_INPUTS = 2     # of which are checked (kVerifiedInputs)
TOLERANCE = {"f32": 1e-3, "bf16": 5e-2}
TIE = {"f32": 1e-5, "bf16": 2e-2}
QWEN2_PRESETS = {"qwen1.5-moe-a2.7b", "qwen2-57b-a14b"}


def torch_dtype(torch, name):
    return {"f32": torch.float32, "bf16": torch.bfloat16}[name]


def make_block(shape, seed):
    """transformers' block for the shape, random weights N(0, 0.02) from `seed`, f32, eval."""
    import torch
    if shape["shared_intermediate"] > 0:
        from transformers import Qwen2MoeConfig
        from transformers.models.qwen2_moe.modeling_qwen2_moe import Qwen2MoeSparseMoeBlock
        config = Qwen2MoeConfig(
            hidden_size=shape["hidden"], moe_intermediate_size=shape["intermediate"],
            num_experts=shape["experts"], num_experts_per_tok=shape["top_k"],
            shared_expert_intermediate_size=shape["shared_intermediate"],
            norm_topk_prob=shape["norm_topk_prob"], hidden_act="silu")
        block = Qwen2MoeSparseMoeBlock(config)
    else:
        from transformers import Qwen3MoeConfig
        from transformers.models.qwen3_moe.modeling_qwen3_moe import Qwen3MoeSparseMoeBlock
        config = Qwen3MoeConfig(
            hidden_size=shape["hidden"], moe_intermediate_size=shape["intermediate"],
            num_experts=shape["experts"], num_experts_per_tok=shape["top_k"],
            norm_topk_prob=shape["norm_topk_prob"], hidden_act="silu")
        block = Qwen3MoeSparseMoeBlock(config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(block.named_parameters()):
            p.normal_(0.0, 0.02, generator=gen)
    block.eval()
    return block, config


def make_inputs(torch, shape, tokens, seed):
    """RING inputs [1, T, H], uniform in [-1, 1] as moetune's layer benchmark draws them."""
    gen = torch.Generator().manual_seed(seed * 1000003 + tokens)
    return [torch.rand(1, tokens, shape["hidden"], generator=gen) * 2 - 1 for _ in range(RING)]


def weights_of(block):
    """The tensors DESIGN §1 names, from transformers' block (gate_up_proj [E, 2I, H]: gate
    rows first)."""
    w = {"router": block.gate.weight, "gate_up": block.experts.gate_up_proj,
         "down": block.experts.down_proj}
    if hasattr(block, "shared_expert"):
        w.update(vg=block.shared_expert.gate_proj.weight, vu=block.shared_expert.up_proj.weight,
                 vd=block.shared_expert.down_proj.weight, wz=block.shared_expert_gate.weight)
    return w


def routing64(torch, w, x64, shape):
    """DESIGN §1 steps 1-4 in float64: probabilities, top-k ids (the lower id on exact ties)
    and weights."""
    p = torch.softmax(x64 @ w["router"].double().T, dim=-1)
    k = shape["top_k"]
    ids = []
    for t in range(p.shape[0]):
        row = p[t].tolist()
        ids.append(sorted(range(len(row)), key=lambda e: (-row[e], e))[:k])
    return p, ids


def reference64(torch, w, x, shape, ids):
    """DESIGN §1 steps 4-6 in float64 on the block's own weights, with the experts `ids` of
    each token (weights from the float64 probabilities): y [T, H]."""
    x64 = x.reshape(-1, shape["hidden"]).double()
    I = shape["intermediate"]
    p, _ = routing64(torch, w, x64, shape)
    y = torch.zeros_like(x64)
    by_expert = {}
    for t, chosen in enumerate(ids):
        weights = [p[t, e].item() for e in chosen]
        if shape["norm_topk_prob"]:
            total = sum(weights)
            weights = [v / total for v in weights]
        for e, wt in zip(chosen, weights):
            by_expert.setdefault(e, []).append((t, wt))
    for e, uses in by_expert.items():
        gu = w["gate_up"][e].double()
        wg, wu, wd = gu[:I], gu[I:], w["down"][e].double()
        rows = torch.tensor([t for t, _ in uses])
        xs = x64[rows]
        h = torch.nn.functional.silu(xs @ wg.T) * (xs @ wu.T)
        out = (h @ wd.T) * torch.tensor([wt for _, wt in uses], dtype=torch.float64)[:, None]
        y.index_add_(0, rows, out)
    if "vg" in w:
        h = torch.nn.functional.silu(x64 @ w["vg"].double().T) * (x64 @ w["vu"].double().T)
        y += torch.sigmoid(x64 @ w["wz"].double().T) * (h @ w["vd"].double().T)
    return y


def check(torch, block, w, x, got, shape, dtype):
    """Compares one output with the float64 reference. The routing first: the block's experts
    must be the float64 routing's, but where they differ only through a near tie (an f32 or
    bf16 router may order two experts of almost equal probability either way); then the
    output, against the float64 layer run with the block's own experts. Returns (problem or
    "", max relative error, tokens routed differently through a near tie)."""
    x64 = x.reshape(-1, shape["hidden"]).double()
    p, ids = routing64(torch, w, x64, shape)
    with torch.inference_mode():
        _, _, chosen = block.gate(x.reshape(-1, shape["hidden"]))
    chosen = [sorted(chosen[t].tolist()) for t in range(chosen.shape[0])]
    k = shape["top_k"]
    ties = 0
    for t, mine in enumerate(chosen):
        theirs = set(ids[t])
        if set(mine) == theirs:
            continue
        pk = p[t, ids[t][k - 1]].item()
        if not all(abs(pk - p[t, e].item()) <= TIE[dtype] * pk for e in set(mine) ^ theirs):
            return ("token {}: experts {} where the float64 routing picks {}".format(
                t, mine, sorted(theirs)), 0.0, ties)
        ties += 1
    want = reference64(torch, w, x, shape, chosen)
    got = got.reshape(want.shape).double()
    worst = 0.0
    for t in range(want.shape[0]):
        scale = want[t].abs().max().item()
        err = (got[t] - want[t]).abs().max().item()
        rel = err / scale if scale > 0 else err
        worst = max(worst, rel)
        if not rel <= TOLERANCE[dtype]:
            i = int((got[t] - want[t]).abs().argmax())
            return ("token {} output {}: {:.6g} where the float64 reference gives {:.6g} "
                    "(relative error {:.3g} > {:g})".format(t, i, got[t, i].item(),
                                                            want[t, i].item(), rel,
                                                            TOLERANCE[dtype]),
                    worst, ties)
    return "", worst, ties


def run_point(torch, block, config, shape, dtype, tokens, threads, impls, plan, roofline, seed,
              sweep_name):
    """Every experts implementation at one point: verified, then timed with their repetitions
    interleaved in a random order. Returns their cases."""
    torch.set_num_threads(threads)
    inputs = [x.to(torch_dtype(torch, dtype)) for x in make_inputs(torch, shape, tokens, seed)]
    w = weights_of(block)
    wbytes = pr.DTYPE_BYTES[dtype]
    # The routing of each input, for the bytes the call must move (the distinct experts).
    with torch.inference_mode():
        distinct = [len(set(block.gate(x.reshape(-1, shape["hidden"]))[2].flatten().tolist()))
                    for x in inputs]
    costs = [pr.layer_cost(shape, tokens, d, wbytes, wbytes) for d in distinct]
    nbytes = sum(c[0] for c in costs) / RING
    flops = sum(c[1] for c in costs) / RING
    bound = roofline.seconds_for(nbytes, flops, threads) if roofline else None

    cases, calls, estimates = {}, {}, {}
    for impl in impls:
        variant = "layer_{}__pytorch_{}".format(dtype, impl)
        case = {"name": pr.case_id("layer", variant, shape, dtype, "oi", tokens, threads),
                "op": "layer", "variant": variant, "dtype": dtype, "layout": "oi",
                "shape": shape, "tokens": tokens, "threads": threads, "verified": False,
                "error": "", "time_unit": "us", "repetitions": [],
                "extra": {"experts_implementation": impl}}
        cases[impl] = case

        def call(i, impl=impl):
            config._experts_implementation = impl
            return block(inputs[i % RING])

        try:
            with torch.inference_mode():
                worst, ties = 0.0, 0
                for r in range(VERIFIED_INPUTS):
                    problem, rel, tie = check(torch, block, w, inputs[r], call(r), shape, dtype)
                    worst, ties = max(worst, rel), ties + tie
                    if problem:
                        case["error"] = "verification failed: " + problem
                        break
                case["extra"].update(max_rel_error=worst, routing_near_ties=ties)
                if not case["error"]:
                    case["verified"] = True
                    estimates[impl] = pr.warm_up(call)
                    calls[impl] = call
        except Exception as e:  # an implementation that cannot run here is recorded, not fatal
            case["error"] = "{}: {}".format(type(e).__name__, str(e).splitlines()[0][:300])
        if case["error"]:
            print("  {}: {}".format(variant, case["error"]), file=sys.stderr)

    order = [impl for impl in impls if impl in calls]
    rng = random.Random(seed)
    with torch.inference_mode():
        for _ in range(plan["repetitions"]):
            rng.shuffle(order)
            for impl in order:
                real, cpu, iters = pr.repetition(calls[impl], estimates[impl], plan["min_time"])
                cases[impl]["repetitions"].append(
                    pr.repetition_record(real, cpu, iters, nbytes, flops, bound))
    for impl in impls:
        c = cases[impl]
        if c["repetitions"]:
            med = sorted(r["real_time"] for r in c["repetitions"])[len(c["repetitions"]) // 2]
            print("  {}: median {:.1f} us{}".format(
                c["name"], med, "" if bound is None else
                " ({:.1f}% of roofline)".format(100 * bound * 1e6 / med)), file=sys.stderr)
    return [cases[impl] for impl in impls]


def main():
    ap = pr.argument_parser(__doc__)
    ap.add_argument("--dtype", default="f32,bf16", help="f32, bf16 or both (default f32,bf16)")
    ap.add_argument("--experts-impl", default="eager,grouped_mm",
                    help="transformers experts implementations (default eager,grouped_mm)")
    args = ap.parse_args()
    try:
        plan = pr.plan_from_args(args)
        dtypes = pr.dtype_list(args.dtype, list(TOLERANCE))
        impls = [i for i in args.experts_impl.split(",") if i]
        roofline = pr.load_roofline(args, max(plan["threads"]))
    except pr.PeerError as e:
        print("peer_pytorch: {}".format(e), file=sys.stderr)
        return 2

    import torch
    import transformers
    cases = []
    for shape in plan["shapes"]:
        for dtype in dtypes:
            block, config = make_block(shape, plan["seed"])
            block.to(torch_dtype(torch, dtype))
            for tokens in plan["tokens"]:
                for threads in plan["threads"]:
                    print("{} {} tokens:{} threads:{}".format(shape["model"], dtype, tokens,
                                                              threads), file=sys.stderr)
                    cases += run_point(torch, block, config, shape, dtype, tokens, threads, impls,
                                       plan, roofline, plan["seed"], plan["name"])
            del block
    extra = {"torch_version": torch.__version__, "transformers_version": transformers.__version__,
             "torch_parallel": torch.__config__.parallel_info().splitlines()[-1].strip(),
             "experts_implementations": impls}
    return pr.finish(args, plan, roofline, "pytorch", extra, cases)

if __name__ == "__main__":
    sys.exit(main())
