#!/usr/bin/env python3
"""moetune's layer inside a transformers model: a torch.nn.Module that replaces a Qwen MoE block.

    python3 tools/moetune_torch.py CHECKPOINT_DIR [--threads N] [--dtype f32|bf16|int8]

loads the checkpoint with transformers (float32), replaces the MoE block (Qwen3MoeSparseMoeBlock,
Qwen2MoeSparseMoeBlock) of every MoE layer with MoetuneMoeBlock, and checks each replaced block's
output against the original block's on random hidden states; exit status 1 if one differs.

From Python:
    from moetune_torch import replace_moe_blocks
    replace_moe_blocks(model, "path/to/checkpoint", threads=8)

Needs torch and transformers, which moetune's build and tests do not: this file is exercised only
where they are installed (NOT on the project's CI, and it was not run where it was written; the
Python module it wraps is tested by tests/python). The module `moetune` must be importable
(PYTHONPATH=build/python, or an install's lib/python3/dist-packages).
"""
import argparse
import sys

import moetune
import torch


class MoetuneMoeBlock(torch.nn.Module):
    """moetune's MoE layer with the interface of transformers' sparse MoE block.

    forward(hidden_states [batch, seq, hidden] or [tokens, hidden]) returns the block's output of
    the same shape and dtype (computed in float32 on the CPU), and, when the block it replaces
    returned (hidden_states, router_logits) as transformers 4 does, that pair: the router logits
    are computed with the original router (`gate`), which is kept for that purpose only.
    """

    def __init__(self, checkpoint_dir, layer, gate=None, returns_router_logits=False, **options):
        super().__init__()
        self.layer = moetune.MoeLayer.from_pretrained(str(checkpoint_dir), layer, **options)
        self.gate = gate
        self.returns_router_logits = returns_router_logits

    def forward(self, hidden_states):
        shape = hidden_states.shape
        flat = hidden_states.reshape(-1, shape[-1])
        x = flat.detach().to(device="cpu", dtype=torch.float32).contiguous().numpy()
        y = torch.from_numpy(self.layer(x)).to(device=hidden_states.device,
                                              dtype=hidden_states.dtype).reshape(shape)
        if self.returns_router_logits:
            return y, self.gate(flat)
        return y


def _output(result):
    return result[0] if isinstance(result, tuple) else result


def replace_moe_blocks(model, checkpoint_dir, check=True, atol=1e-4, seed=0, **options):
    """Replaces every sparse MoE block of a Qwen MoE model in place; returns {layer: max error}.

    With `check`, each new block runs beside the original on random hidden states first, and a
    difference above `atol` (+ the same relative) raises ValueError before anything is replaced.
    """
    errors = {}
    replacements = []
    gen = torch.Generator().manual_seed(seed)
    for index, decoder_layer in enumerate(model.model.layers):
        block = decoder_layer.mlp
        if not type(block).__name__.endswith("SparseMoeBlock"):
            continue  # a dense MLP layer (mlp_only_layers, decoder_sparse_step)
        x = torch.randn(1, 5, model.config.hidden_size, generator=gen, dtype=torch.float32)
        with torch.no_grad():
            want = block(x)
        new = MoetuneMoeBlock(checkpoint_dir, index, gate=block.gate,
                              returns_router_logits=isinstance(want, tuple), **options)
        if check:
            with torch.no_grad():
                got = _output(new(x))
            err = float((got - _output(want)).abs().max())
            errors[index] = err
            if not torch.allclose(got, _output(want), atol=atol, rtol=atol):
                raise ValueError(f"layer {index}: moetune's block differs from {type(block).__name__} "
                                 f"by up to {err:g} (atol {atol:g})")
        replacements.append((decoder_layer, new))
    for decoder_layer, new in replacements:
        decoder_layer.mlp = new
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--dtype", default="f32", choices=["f32", "bf16", "int8"])
    args = parser.parse_args()
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(args.checkpoint, torch_dtype=torch.float32)
    # bf16 weights are the checkpoint's own values; int8 rounds them, hence a looser bound.
    atol = 5e-2 if args.dtype == "int8" else 1e-4
    try:
        errors = replace_moe_blocks(model, args.checkpoint, atol=atol, threads=args.threads,
                                    dtype=args.dtype)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    for layer, err in errors.items():
        print(f"layer {layer}: replaced, max error {err:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
