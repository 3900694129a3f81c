#!/usr/bin/python3
"""Token-decoder benchmark driver (bench/token_decoder.sh runs it): the
examples/tiny_lm model in PyTorch eager (its own growing cache), ONNX Runtime
(step.onnx in a loop, cache outputs fed back) and, once `edgegen generate`
exists, edgegen; at each thread count, each engine in its own process.

    /usr/bin/python3 bench/token_decoder.py [--threads 1 2] [--tokens 64] [--min-time 1] [--out DIR] [--edgegen PATH]

Writes DIR/results.json and DIR/table.md and prints the table.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(REPO, "examples", "tiny_lm")
MANIFEST = os.path.join(EXAMPLE, "manifest.json")


def machine():
    fields = {}
    for line in open("/proc/cpuinfo"):
        if ":" in line:
            key, value = line.split(":", 1)
            fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    isa = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile") if f in flags]
    return {"cpu": fields.get("model name", "unknown"), "logical_cpus": os.cpu_count(), "isa": isa,
            "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()}


def run_json(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
    if result.returncode != 0:
        sys.stderr.write(f"token_decoder: {' '.join(command)} failed:\n{result.stderr[-2000:]}\n")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def thread_env(threads):
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    return env


def edgegen_available(edgegen):
    if not edgegen or not os.path.isfile(edgegen):
        return False
    # `edgegen SUBCOMMAND --help` of a subcommand the build lacks prints the
    # top-level help and exits 0, so look for generate's own option.
    result = subprocess.run([edgegen, "generate", "--help"], capture_output=True, text=True)
    return result.returncode == 0 and "--prompt-tokens" in result.stdout + result.stderr


def run_child(command):
    """Runs a command; returns (wall seconds, peak RSS bytes of that child,
    exit code, the end of its stderr). stdout is discarded."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        return elapsed, usage.ru_maxrss * 1024, process.returncode, stderr.read()[-2000:].decode(errors="replace")


def bench_edgegen(edgegen, egm, threads, max_length, repeats=5):
    """Whole-process timing of `edgegen generate` (load, prepare and prompt
    cancel out in differences of the fastest of `repeats` runs):
    - decode tokens/s: -n N against -n 1 after the reference prompt (every row
      of the cache used);
    - ms per step near position 10 and near max_length - 10: from BOS alone,
      -n 21 against -n 1 (positions 1-20) and -n max_length-1 against
      -n max_length-21 (the last 20 rows).
    The first 64 tokens after the reference prompt must be PyTorch's."""
    import numpy as np

    prompt = [int(t) for t in np.load(os.path.join(EXAMPLE, "reference_prompt_tokens.npy"))]
    reference = [int(t) for t in np.load(os.path.join(EXAMPLE, "reference_tokens.npy"))]
    tokens = max_length - len(prompt)

    def command(prompt_tokens, n):
        return [edgegen, "generate", egm, "--prompt-tokens", ",".join(map(str, prompt_tokens)), "-n", str(n),
                "--temperature", "0", "--tokens-out", "--threads", str(threads)]

    peak = 0

    def fastest(prompt_tokens, n):
        nonlocal peak
        best = None
        for _ in range(repeats):
            elapsed, rss, code, stderr = run_child(command(prompt_tokens, n))
            if code != 0:
                raise RuntimeError(f"edgegen generate failed ({code}): {stderr[-1000:]}")
            best = elapsed if best is None else min(best, elapsed)
            peak = max(peak, rss)
        return best

    try:
        per_token_ms = (fastest(prompt, tokens) - fastest(prompt, 1)) / (tokens - 1) * 1e3
        bos = prompt[:1]
        window = 20
        early_ms = (fastest(bos, window + 1) - fastest(bos, 1)) / window * 1e3
        late_ms = (fastest(bos, max_length - 1) - fastest(bos, max_length - 1 - window)) / window * 1e3
        # Prefill: a prompt of two prefill chunks (2 x T tokens) against BOS alone, -n 1 each.
        chunk = json.load(open(os.path.join(EXAMPLE, "reference_tokens.json")))["prefill_length"]
        long_prompt = (prompt + reference)[:2 * chunk]
        prefill_s = fastest(long_prompt, 1) - fastest(bos, 1)
    except RuntimeError as error:
        sys.stderr.write(f"token_decoder: {error}\n")
        return None
    generated = subprocess.run(command(prompt, len(reference)), capture_output=True, text=True, cwd=REPO).stdout
    same = read_tokens_text(generated)[:len(reference)] == reference
    return {"engine": "edgegen", "threads": threads, "decode_tokens": tokens,
            "decode_tokens_per_s": 1e3 / per_token_ms if per_token_ms > 0 else None,
            "step_ms_at_10": early_ms, "step_ms_at_end": late_ms,
            "prefill": {"tokens_per_s": 2 * chunk / prefill_s if prefill_s > 0 else None},
            "peak_rss_bytes": peak, "tokens_match_reference": same,
            "note": f"from the fastest whole-process times of generate -n {tokens} and -n 1 after the reference "
                    f"prompt; steps at positions 1-{window} and {max_length - window}-{max_length - 1} from BOS; prefill: "
                    f"a {2 * chunk}-token prompt against BOS alone"}


def read_tokens_text(text):
    return [int(t) for t in text.replace(",", " ").split()]


def fmt(value, digits=3):
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "n/a"


def table(info, rows, edgegen_note):
    lines = [f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, ISA: {' '.join(info['isa'])}; {info['date']}; "
             f"load average {info['load_start']} at start, {info['load_end']} at end",
             f"Model: examples/tiny_lm ({info['model']}); decode = BOS then {info['tokens']} greedy tokens, "
             f"one step per token; PyTorch {info.get('torch', '?')} eager with its own growing cache, "
             f"ONNX Runtime {info.get('ort', '?')} (onnxruntime-node, node {info['node']}) running step.onnx "
             f"(static cache of {info['max_length']} rows) in a loop; {edgegen_note}",
             "",
             "| thr | decode tok/s PT / ORT / eg | step ms @10 PT / ORT / eg | step ms @"
             f"{info['max_length'] - 10} PT / ORT / eg | prefill tok/s (T={info['prefill']}) PT / ORT / eg | "
             "load ms PT / ORT | peak RSS MiB PT / ORT / eg | decode ORT/PT | eg/ORT | eg/PT |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for threads, engines in rows:
        pt, ort, eg = engines.get("pytorch") or {}, engines.get("onnxruntime") or {}, engines.get("edgegen") or {}

        def get(engine, *keys):
            value = engine
            for key in keys:
                value = (value or {}).get(key)
            return value

        mib = lambda e: fmt(e["peak_rss_bytes"] / 2**20) if e.get("peak_rss_bytes") else "n/a"  # noqa: E731
        eg_speed = "—"
        if eg:
            eg_speed = f"{fmt(eg.get('decode_tokens_per_s'))} (tokens {'=' if eg['tokens_match_reference'] else '≠'} PT)"
        lines.append(
            f"| {threads} | {fmt(pt.get('decode_tokens_per_s'))} / {fmt(ort.get('decode_tokens_per_s'))} / {eg_speed} "
            f"| {fmt(pt.get('step_ms_at_10'))} / {fmt(ort.get('step_ms_at_10'))} / {fmt(eg.get('step_ms_at_10')) if eg else '—'} "
            f"| {fmt(pt.get('step_ms_at_end'))} / {fmt(ort.get('step_ms_at_end'))} / {fmt(eg.get('step_ms_at_end')) if eg else '—'} "
            f"| {fmt(get(pt, 'prefill', 'tokens_per_s'))} / {fmt(get(ort, 'prefill', 'tokens_per_s'))} / {fmt(get(eg, 'prefill', 'tokens_per_s')) if eg else '—'} "
            f"| {fmt(pt.get('load_ms'))} / {fmt(ort.get('load_ms'))} "
            f"| {mib(pt) if pt else 'n/a'} / {mib(ort) if ort else 'n/a'} / {mib(eg) if eg else '—'} "
            f"| {ratio(ort.get('decode_tokens_per_s'), pt.get('decode_tokens_per_s'))} "
            f"| {ratio(eg.get('decode_tokens_per_s'), ort.get('decode_tokens_per_s')) if eg else '—'} "
            f"| {ratio(eg.get('decode_tokens_per_s'), pt.get('decode_tokens_per_s')) if eg else '—'} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument("--out", default=os.path.join(REPO, "bench", "out", "token_decoder"))
    parser.add_argument("--edgegen", default=os.path.join(REPO, "build", "edgegen"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    info = machine()
    info["load_start"] = open("/proc/loadavg").read().split()[0]
    reference = json.load(open(os.path.join(EXAMPLE, "reference_tokens.json")))
    manifest = json.load(open(MANIFEST))
    info.update(tokens=args.tokens, max_length=manifest["max_length"], prefill=reference["prefill_length"],
                model=f"{json.load(open(os.path.join(EXAMPLE, 'training.json')))['parameters']} parameters, "
                      f"vocab {manifest['vocab_size']}")

    egm = None
    if edgegen_available(args.edgegen):
        egm = os.path.join(args.out, "tiny_lm.egm")
        converted = subprocess.run([args.edgegen, "convert", MANIFEST, "-o", egm], capture_output=True, text=True)
        if converted.returncode != 0:
            print(f"edgegen: conversion failed: {converted.stderr.strip().splitlines()[-1:]}")
            egm = None
        edgegen_note = f"edgegen: {args.edgegen} generate (XNNPACK backend, default)"
    else:
        print("edgegen: generate not built")
        edgegen_note = "edgegen: generate not built (— in the table)"

    rows = []
    for threads in args.threads:
        engines = {}
        print(f"token_decoder: {threads} thread(s): pytorch", file=sys.stderr)
        engines["pytorch"] = run_json([sys.executable, "bench/token_decoder_torch.py", os.path.join(EXAMPLE, "model.pt"),
                                       "--threads", str(threads), "--tokens", str(args.tokens),
                                       "--prefill", str(info["prefill"]), "--min-time", str(args.min_time)],
                                      thread_env(threads))
        print(f"token_decoder: {threads} thread(s): onnxruntime", file=sys.stderr)
        engines["onnxruntime"] = run_json(["node", "bench/token_decoder_ort.js", "bench", MANIFEST, "--threads",
                                           str(threads), "--tokens", str(args.tokens), "--min-time", str(args.min_time)],
                                          thread_env(threads))
        if egm:
            print(f"token_decoder: {threads} thread(s): edgegen", file=sys.stderr)
            engines["edgegen"] = bench_edgegen(args.edgegen, egm, threads, manifest["max_length"])
        for engine in engines.values():
            if engine and engine.get("engine") == "pytorch":
                info["torch"] = engine["version"]
            if engine and engine.get("engine") == "onnxruntime":
                info["ort"] = engine["version"]
        rows.append((threads, engines))
    info["load_end"] = open("/proc/loadavg").read().split()[0]

    text = table(info, rows, edgegen_note)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"machine": info, "rows": [{"threads": t, **e} for t, e in rows]}, f, indent=1)
    print(text)
    failed = any(engines.get(name) is None for _, engines in rows for name in ("pytorch", "onnxruntime"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
