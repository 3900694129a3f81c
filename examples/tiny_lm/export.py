#!/usr/bin/python3
"""Exports the tiny LM as a `token_decoder` model and writes PyTorch references.

    /usr/bin/python3 examples/tiny_lm/export.py            # model.pt -> step.onnx, prefill.onnx, manifest.json, reference_*
    /usr/bin/python3 examples/tiny_lm/export.py --check    # only re-verify the committed files (no torch needed)

Export writes, next to this file:
  step.onnx      input_ids [1,1] int64, position [1] int64, k0 v0 ... [1,H,L,hd] float32
                 -> logits [1,1,V] float32, k0_out v0_out ... (same shapes)
  prefill.onnx   the same with input_ids [1,PREFILL] and logits [1,PREFILL,V]
  manifest.json  kind token_decoder
  reference_*    greedy decoding by the eager PyTorch model with its own growing
                 cache (see README.md, "Reference files")
then runs check_reference.py, which decodes with ONNX Runtime (node,
onnxruntime-node from bench/node_modules) through step.onnx alone and through
prefill.onnx + step.onnx, and compares with the references (logits within
1e-4, the same greedy tokens).
"""
import argparse
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
PREFILL = 32
PROMPT = "The licenses for most software are designed to take away"
NEW_TOKENS = 64
LOGIT_STEPS = 8


def write_json(path, value):
    """One top-level key a line, values compact (lists stay on one line)."""
    lines = [f" {json.dumps(key)}: {json.dumps(item, separators=(', ', ': '))}" for key, item in value.items()]
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


def export_graph(torch, model, length, path):
    from model import StaticGraph

    config = model.config
    heads, rows, head_dim = config.n_heads, config.max_length, config.head_dim
    cache_names = [f"{kind}{i}" for i in range(config.n_layers) for kind in ("k", "v")]
    example = (torch.zeros(1, length, dtype=torch.int64), torch.zeros(1, dtype=torch.int64),
               *[torch.zeros(1, heads, rows, head_dim) for _ in cache_names])
    torch.onnx.export(StaticGraph(model, length), example, path, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input_ids", "position", *cache_names],
                      output_names=["logits", *[f"{name}_out" for name in cache_names]])
    import onnx

    graph = onnx.load(path)
    onnx.checker.check_model(graph)
    ops = collections.Counter(node.op_type for node in graph.graph.node)
    return cache_names, dict(sorted(ops.items()))


def export(args):
    import numpy as np
    import torch

    sys.path.insert(0, HERE)
    from model import greedy_dynamic, load

    torch.set_num_threads(1)
    model = load(os.path.join(HERE, "model.pt"))
    config = model.config
    ops = {}
    cache_names, ops["step"] = export_graph(torch, model, 1, os.path.join(HERE, "step.onnx"))
    _, ops["prefill"] = export_graph(torch, model, PREFILL, os.path.join(HERE, "prefill.onnx"))
    for name, counts in ops.items():
        print(f"{name}.onnx ops: {counts}")

    pairs = [[f"k{i}", f"v{i}"] for i in range(config.n_layers)]
    manifest = {
        "kind": "token_decoder",
        "graphs": {"step": "step.onnx", "prefill": "prefill.onnx"},
        "inputs": {"tokens": "input_ids", "position": "position", "cache": pairs},
        "outputs": {"logits": "logits", "cache": [[f"{k}_out", f"{v}_out"] for k, v in pairs]},
        "vocab_size": config.vocab_size, "max_length": config.max_length,
        "bos": config.bos, "eos": config.eos, "tokenizer": "bytes",
    }
    write_json(os.path.join(HERE, "manifest.json"), manifest)

    prompt = [config.bos] + list(PROMPT.encode())
    with torch.inference_mode():
        prompt_logits, _ = model.forward_dynamic(torch.tensor([prompt]))
    tokens, step_logits = greedy_dynamic(model, prompt, NEW_TOKENS)
    top2 = torch.topk(step_logits, 2, dim=-1).values
    margin = float((top2[:, 0] - top2[:, 1]).min())
    np.save(os.path.join(HERE, "reference_prompt_tokens.npy"), np.array(prompt, dtype=np.int64))
    np.save(os.path.join(HERE, "reference_tokens.npy"), np.array(tokens, dtype=np.int64))
    np.save(os.path.join(HERE, "reference_prompt_logits.npy"), prompt_logits[0].numpy().astype(np.float32))
    np.save(os.path.join(HERE, "reference_logits.npy"), step_logits[:LOGIT_STEPS].numpy().astype(np.float32))
    text = bytes(t for t in tokens if t < 256).decode("utf-8", errors="replace")
    reference = {
        "prompt": PROMPT, "prompt_tokens": prompt, "generated_tokens": tokens, "generated_text": text,
        "decoding": "greedy (argmax), eager PyTorch with a growing KV cache: the prompt in one call, "
                    "then one token per call; no stop at EOS",
        "reference_logits_steps": LOGIT_STEPS,
        "smallest_top1_top2_logit_gap": round(margin, 6),
        "torch": torch.__version__, "opset": OPSET, "prefill_length": PREFILL,
        "ops": ops,
    }
    write_json(os.path.join(HERE, "reference_tokens.json"), reference)
    print(f"prompt {PROMPT!r} -> {text!r} (smallest top-2 logit gap {margin:.4f})")


def check():
    result = subprocess.run([sys.executable, os.path.join(HERE, "check_reference.py")])
    return result.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only verify the committed ONNX against the references")
    args = parser.parse_args()
    if not args.check:
        export(args)
    sys.exit(check())


if __name__ == "__main__":
    main()
