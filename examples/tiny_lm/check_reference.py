#!/usr/bin/python3
"""Re-verifies the committed step.onnx / prefill.onnx against the committed
PyTorch references, through ONNX Runtime (node + onnxruntime-node from
bench/node_modules; `bench/run.sh` installs it, or `cd bench && npm install
--ignore-scripts`). Needs numpy and node, not torch.

    /usr/bin/python3 examples/tiny_lm/check_reference.py     # exit 0: pass, 1: mismatch, 77: node/ORT missing

Two decodings, both greedy:
  step      the prompt one token at a time through step.onnx, then 64 steps
  prefill   the prompt through prefill.onnx (last chunk padded), then step.onnx
Each must give the reference tokens, the first generation logits within 1e-4
of reference_logits.npy, and (prefill, step) the prompt logits within 1e-4 of
reference_prompt_logits.npy.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:  # reported as a skip in main()
    np = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(REPO, "bench", "token_decoder_ort.js")
TOLERANCE = 1e-4
SKIP = 77


def main():
    if np is None:
        print("check_reference: SKIP: needs numpy (apt-get install python3-numpy)")
        return SKIP
    node = shutil.which("node")
    if not node or not os.path.isfile(os.path.join(REPO, "bench", "node_modules", "onnxruntime-node", "package.json")):
        print("check_reference: SKIP: needs node and bench/node_modules/onnxruntime-node "
              "(cd bench && npm install --ignore-scripts)")
        return SKIP
    prompt = np.load(os.path.join(HERE, "reference_prompt_tokens.npy"))
    tokens = np.load(os.path.join(HERE, "reference_tokens.npy"))
    step_logits = np.load(os.path.join(HERE, "reference_logits.npy"))
    prompt_logits = np.load(os.path.join(HERE, "reference_prompt_logits.npy"))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("step", "prefill"):
            logits_out = os.path.join(tmp, f"{mode}_logits.npy")
            prompt_out = os.path.join(tmp, f"{mode}_prompt_logits.npy")
            command = [node, RUNNER, "generate", os.path.join(HERE, "manifest.json"),
                       "--prompt-tokens", os.path.join(HERE, "reference_prompt_tokens.npy"),
                       "-n", str(len(tokens)), "--logits-out", logits_out,
                       "--logits-steps", str(len(step_logits)), "--prompt-logits-out", prompt_out]
            if mode == "prefill":
                command.append("--prefill")
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                print(f"{mode}: ONNX Runtime failed:\n{result.stderr}")
                failures += 1
                continue
            got = np.array(json.loads(result.stdout)["tokens"], dtype=np.int64)
            same_tokens = got.shape == tokens.shape and bool((got == tokens).all())
            step_diff = float(np.abs(np.load(logits_out) - step_logits).max())
            prompt_diff = float(np.abs(np.load(prompt_out) - prompt_logits).max())
            ok = same_tokens and step_diff <= TOLERANCE and prompt_diff <= TOLERANCE
            failures += not ok
            first_difference = "" if same_tokens else \
                f" (first differs at {int(np.argmax(got[:len(tokens)] != tokens[:len(got)]))})"
            print(f"{mode}: {'ok' if ok else 'FAIL'}: {len(got)} greedy tokens "
                  f"{'identical' if same_tokens else 'DIFFERENT' + first_difference}; "
                  f"max |logits - PyTorch| {step_diff:.2e} over {len(step_logits)} generation steps, "
                  f"{prompt_diff:.2e} over {len(prompt)} prompt positions (tolerance {TOLERANCE:g})")
    print(f"{2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
