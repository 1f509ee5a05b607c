#!/usr/bin/env python3
"""Make the independent reference data of tests/test_reference.cpp and tests/test_checkpoint.cpp.

The expected outputs come from transformers' own MoE blocks (Qwen3MoeSparseMoeBlock and
Qwen2MoeSparseMoeBlock), not from anything in moetune, so the C++ layer is checked against the
implementation the checkpoints were trained with.

What it writes, under tests/data/ (all small; the whole set is well under 1 MB):
  qwen3_moe_tiny/   config.json + model.safetensors: a random 2-layer Qwen3-MoE
                    (H=44, I=20, E=8, k=2, norm_topk_prob=true), bf16, one file
  qwen2_moe_tiny/   config.json + model.safetensors.index.json + model-0000N-of-0000M.safetensors:
                    a random 1-layer Qwen2-MoE with a shared expert
                    (H=36, I=28, E=6, k=4, S=52, norm_topk_prob=false), bf16, sharded
  reference/CASE.in.safetensors   tensor hidden_states [T, H] f32 (T = 1 and T = 5)
  reference/CASE.out.safetensors  tensor hidden_states [T, H] f32: model.model.layers[L].mlp
                                  run in float32 on the bf16 weights loaded as f32
  reference/cases.json            [{name, model, layer, tokens, input, expected, min_topk_margin}]
  dtypes.safetensors              F32/BF16/F16/I64 tensors of known bit patterns, written by the
                                  safetensors library itself, to check our reader against it

Sizes are not multiples of 8 or 16 so that vector tails are exercised. Weights are initialised
with initializer_range 0.1 rather than 0.02, so that outputs are of order 0.1-1 and the router
is far from uniform. Inputs whose top-k choice is nearly tied (the k-th and (k+1)-th softmax
probabilities closer than 1e-3) are redrawn: with a near tie, an f32 rounding difference would
legitimately pick another expert and no tolerance could cover it.

Run from the repository root (CI does not run it; the outputs are committed):
    python3 tools/make_reference.py
Needs torch, transformers (5.24 was used) and safetensors. Re-running with the same versions
gives the same files.
"""

import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import (Qwen2MoeConfig, Qwen2MoeForCausalLM, Qwen3MoeConfig,
                          Qwen3MoeForCausalLM)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
MIN_MARGIN = 1e-3


def qwen3_model():
    config = Qwen3MoeConfig(
        hidden_size=44, moe_intermediate_size=20, num_experts=8, num_experts_per_tok=2,
        norm_topk_prob=True, num_hidden_layers=2, intermediate_size=64, vocab_size=16,
        num_attention_heads=2, num_key_value_heads=1, head_dim=16, initializer_range=0.1)
    return Qwen3MoeForCausalLM, config


def qwen2_model():
    config = Qwen2MoeConfig(
        hidden_size=36, moe_intermediate_size=28, num_experts=6, num_experts_per_tok=4,
        shared_expert_intermediate_size=52, norm_topk_prob=False, num_hidden_layers=1,
        intermediate_size=64, vocab_size=16, num_attention_heads=2, num_key_value_heads=1,
        initializer_range=0.1)
    return Qwen2MoeForCausalLM, config


def save_model(name, cls, config, seed, max_shard_size=None):
    """Saves a random model in bf16 and returns it reloaded in float32."""
    out = os.path.join(DATA, name)
    shutil.rmtree(out, ignore_errors=True)
    torch.manual_seed(seed)
    model = cls(config).to(torch.bfloat16)
    kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
    model.save_pretrained(out, **kwargs)
    # Only the weights and config.json are read; keep the committed data minimal.
    for extra in ("generation_config.json",):
        path = os.path.join(out, extra)
        if os.path.exists(path):
            os.remove(path)
    reloaded = cls.from_pretrained(out, dtype=torch.float32)
    reloaded.eval()
    return reloaded


def topk_margin(mlp, x, k):
    """The smallest gap between the k-th and (k+1)-th router probability over the tokens."""
    with torch.no_grad():
        probs = torch.softmax(x @ mlp.gate.weight.T, dim=-1)
    top = torch.sort(probs, dim=-1, descending=True).values
    return float((top[:, k - 1] - top[:, k]).min())


def make_case(model, model_dir, layer, tokens, seed, cases):
    mlp = model.model.layers[layer].mlp
    hidden = model.config.hidden_size
    k = model.config.num_experts_per_tok
    gen = torch.Generator().manual_seed(seed)
    while True:
        x = torch.randn(tokens, hidden, generator=gen, dtype=torch.float32)
        margin = topk_margin(mlp, x, k)
        if margin >= MIN_MARGIN:
            break
    with torch.no_grad():
        y = mlp(x[None])[0].contiguous()
    name = f"{model_dir}_L{layer}_T{tokens}"
    ref = os.path.join(DATA, "reference")
    os.makedirs(ref, exist_ok=True)
    # One metadata key: the Rust writer orders a map's keys at random, and the files should be
    # byte-identical from run to run.
    meta = {"source": f"tools/make_reference.py, transformers {__import__('transformers').__version__}, "
                      f"{model_dir} layer {layer}"}
    save_file({"hidden_states": x}, os.path.join(ref, name + ".in.safetensors"), metadata=meta)
    save_file({"hidden_states": y}, os.path.join(ref, name + ".out.safetensors"), metadata=meta)
    cases.append({"name": name, "model": model_dir, "layer": layer, "tokens": tokens,
                  "input": f"reference/{name}.in.safetensors",
                  "expected": f"reference/{name}.out.safetensors",
                  "min_topk_margin": margin})


def bits(values, dtype):
    return torch.tensor(values, dtype=torch.int32).to(torch.int16).view(dtype)


def make_dtypes():
    # Bit patterns: zeros, one, the extreme normals and subnormals, infinities, a NaN.
    f16 = [0x0000, 0x8000, 0x3C00, 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00,
           0x3555]
    bf16 = [0x0000, 0x8000, 0x3F80, 0xC000, 0x0001, 0x007F, 0x0080, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0,
            0x3EAB]
    tensors = {
        "f32": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1.0,
        "f16": bits([b - 0x10000 if b >= 0x8000 else b for b in f16], torch.float16).reshape(3, 4),
        "bf16": bits([b - 0x10000 if b >= 0x8000 else b for b in bf16], torch.bfloat16).reshape(3, 4),
        "i64": torch.arange(4, dtype=torch.int64),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    save_file(tensors, os.path.join(DATA, "dtypes.safetensors"), metadata={"purpose": "dtype test"})


def main():
    if transformers_major() < 5:
        sys.exit("make_reference.py: needs transformers 5 (5.24 was used)")
    torch.set_num_threads(1)
    cases = []

    cls, config = qwen3_model()
    model = save_model("qwen3_moe_tiny", cls, config, seed=3)
    make_case(model, "qwen3_moe_tiny", 1, 1, seed=31, cases=cases)
    make_case(model, "qwen3_moe_tiny", 1, 5, seed=35, cases=cases)
    make_case(model, "qwen3_moe_tiny", 0, 5, seed=305, cases=cases)

    cls, config = qwen2_model()
    # Small shards so that the layer's tensors are spread over several files.
    model = save_model("qwen2_moe_tiny", cls, config, seed=2, max_shard_size="30KB")
    make_case(model, "qwen2_moe_tiny", 0, 1, seed=21, cases=cases)
    make_case(model, "qwen2_moe_tiny", 0, 5, seed=25, cases=cases)

    with open(os.path.join(DATA, "reference", "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    make_dtypes()


def transformers_major():
    return int(__import__("transformers").__version__.split(".")[0])


if __name__ == "__main__":
    main()
