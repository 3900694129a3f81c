#!/usr/bin/python3
"""PyTorch (eager) peer of the token-decoder benchmark: the tiny_lm example's
model with its own growing KV cache (torch.cat), one process per thread count.

    /usr/bin/python3 bench/token_decoder_torch.py examples/tiny_lm/model.pt --threads 1 [--tokens 64] [--min-time 1]

Prints one JSON object with the same fields as `token_decoder_ort.js bench`:
decode tokens/s (BOS then greedy tokens, one forward call per token, from
position 0), median ms of one step with 10 and with max_length - 10 rows
already cached, prefill tokens/s (one call over the prefill length from an
empty cache), load ms, peak RSS. torch.inference_mode() throughout.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
import_start = time.perf_counter()
import torch  # noqa: E402

import_ms = (time.perf_counter() - import_start) * 1e3
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "examples", "tiny_lm"))
from model import load  # noqa: E402


def timed(function, min_time, least):
    for _ in range(3):
        function()
    times, total = [], 0.0
    while len(times) < least or total < min_time:
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        total += elapsed
    return statistics.median(times) * 1e3, len(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--prefill", type=int, default=32)
    parser.add_argument("--min-time", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rss_after_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    start = time.perf_counter()
    model = load(args.checkpoint)
    load_ms = (time.perf_counter() - start) * 1e3
    config = model.config
    end_position = config.max_length - 10

    with torch.inference_mode():
        def decode():
            token, past = config.bos, None
            for _ in range(args.tokens):
                logits, past = model.forward_dynamic(torch.tensor([[token]]), past)
                token = int(torch.argmax(logits[0, -1]))

        decode_ms, decode_runs = timed(decode, args.min_time, 3)

        def step_after(rows):
            _, past = model.forward_dynamic(torch.randint(0, 256, (1, rows)))
            token = torch.tensor([[65]])
            return lambda: model.forward_dynamic(token, past)

        step_10, _ = timed(step_after(10), args.min_time / 2, 20)
        step_end, _ = timed(step_after(end_position), args.min_time / 2, 20)
        chunk = torch.randint(0, 256, (1, args.prefill))
        prefill_ms, _ = timed(lambda: model.forward_dynamic(chunk), args.min_time, 10)

    print(json.dumps({
        "engine": "pytorch", "version": torch.__version__, "threads": args.threads,
        "import_ms": import_ms, "load_ms": load_ms,
        "decode_tokens": args.tokens, "decode_runs": decode_runs,
        "decode_tokens_per_s": args.tokens / (decode_ms / 1e3),
        "step_ms_at_10": step_10, "step_ms_at_end": step_end, "end_position": end_position,
        "prefill": {"length": args.prefill, "median_ms": prefill_ms, "tokens_per_s": args.prefill / (prefill_ms / 1e3)},
        "baseline_rss_bytes": baseline_rss, "rss_after_import_bytes": rss_after_import,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
