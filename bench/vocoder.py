#!/usr/bin/python3
"""Vocoder benchmark (issue 14): examples/vocoder in edgegen and ONNX Runtime
on the same graph, at each thread count.

  * window: one graph run of the W frames the model is converted for
    (edgegen bench vs node bench/ort_bench.js, same ONNX at the same shapes),
    median ms and the ratio;
  * real-time factor: seconds of audio per second of compute.
    edgegen: `edgegen vocode` over a long mel (the reference tiled to
    --seconds), windows overlapping by the context frames, median of --repeat;
    ONNX Runtime: the same windows (windows x its window latency), and the
    whole mel in one run of the dynamic-length graph.

Prints a table naming the CPU and the load; --json writes the numbers.
Run through bench/vocoder.sh (installs the peers).
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "vocoder")


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def run(command):
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def window_count(frames, window, context):
    if frames <= window:
        return 1
    stride = window - 2 * context
    return (frames - window + stride - 1) // stride + 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgegen", default=os.path.join(ROOT, "build", "edgegen"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=30.0, help="audio length of the real-time-factor run")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    manifest = json.load(open(os.path.join(EXAMPLE, "manifest.json")))
    hop, rate, context = manifest["hop_length"], manifest["sample_rate"], manifest["context_frames"]
    window = manifest["dims"]["frames"]
    mel = np.load(os.path.join(EXAMPLE, "reference", "mel.npy"))[0]
    frames = int(math.ceil(args.seconds * rate / hop))
    long_mel = np.tile(mel, (1, frames // mel.shape[1] + 1))[:, :frames].astype(np.float32)
    audio_seconds = frames * hop / rate
    windows = window_count(frames, window, context)
    load_before = load_average()

    results = {"cpu": cpu_name(), "load_before": load_before, "window_frames": window, "context_frames": context,
               "frames": frames, "audio_seconds": audio_seconds, "windows": windows, "threads": []}
    with tempfile.TemporaryDirectory() as work:
        egm = os.path.join(work, "vocoder.egm")
        run([args.edgegen, "convert", os.path.join(EXAMPLE, "manifest.json"), "-o", egm])
        long_path = os.path.join(work, "long.npy")
        np.save(long_path, long_mel[None])
        window_path = os.path.join(work, "window.npy")
        np.save(window_path, long_mel[None, :, :window])
        for threads in args.threads:
            bench = json.loads(run([args.edgegen, "bench", egm, "--threads", str(threads), "--runs", str(args.runs),
                                    "--json"]))
            edgegen_window = bench["graphs"][0]["median_ms"]
            vocode_ms = []
            for _ in range(args.repeat):
                out = run([args.edgegen, "vocode", egm, "--mel", long_path, "-o", os.path.join(work, "out.wav"),
                           "--threads", str(threads)])
                vocode_ms.append(float(re.search(r"in ([0-9.]+) ms", out).group(1)))
            ort = json.loads(run(["node", os.path.join(ROOT, "bench", "ort_bench.js"),
                                  os.path.join(EXAMPLE, "vocoder.onnx"), "--threads", str(threads), "--runs",
                                  str(args.runs), "--input", "mel=" + window_path]))
            ort_whole = json.loads(run(["node", os.path.join(ROOT, "bench", "ort_bench.js"),
                                        os.path.join(EXAMPLE, "vocoder.onnx"), "--threads", str(threads), "--runs",
                                        str(max(3, args.repeat)), "--warmup", "1", "--min-time", "0",
                                        "--input", "mel=" + long_path]))
            edgegen_ms = statistics.median(vocode_ms)
            row = {
                "threads": threads,
                "edgegen_window_ms": edgegen_window, "ort_window_ms": ort["median_ms"],
                "window_ratio": ort["median_ms"] / edgegen_window,
                "edgegen_window_min_ms": bench["graphs"][0]["min_ms"], "ort_window_min_ms": ort["min_ms"],
                "window_min_ratio": ort["min_ms"] / bench["graphs"][0]["min_ms"],
                "edgegen_vocode_ms": edgegen_ms, "edgegen_rtf": audio_seconds / (edgegen_ms / 1e3),
                "ort_windowed_rtf": audio_seconds / (windows * ort["median_ms"] / 1e3),
                "ort_whole_ms": ort_whole["median_ms"], "ort_whole_rtf": audio_seconds / (ort_whole["median_ms"] / 1e3),
            }
            results["threads"].append(row)
    results["load_after"] = load_average()

    print(f"vocoder benchmark: examples/vocoder, {audio_seconds:.1f} s of audio ({frames} frames, {windows} windows "
          f"of {window} frames, context {context}), {results['cpu']}, load {load_before} -> {results['load_after']}")
    print(f"{'threads':>7} | {'edgegen ms/window':>17} | {'ORT ms/window':>13} | {'ratio':>5} | "
          f"{'min: edgegen / ORT ms':>21} | {'ratio':>5} | {'edgegen x real time':>19} | {'ORT windows':>11} | "
          f"{'ORT whole':>9}")
    for row in results["threads"]:
        print(f"{row['threads']:>7} | {row['edgegen_window_ms']:>17.3f} | {row['ort_window_ms']:>13.3f} | "
              f"{row['window_ratio']:>5.2f} | {row['edgegen_window_min_ms']:>10.3f} / {row['ort_window_min_ms']:>8.3f} | "
              f"{row['window_min_ratio']:>5.2f} | {row['edgegen_rtf']:>19.1f} | {row['ort_windowed_rtf']:>11.1f} | "
              f"{row['ort_whole_rtf']:>9.1f}")
    print("ms/window: median (and min) of one run of the 64-frame graph; ratio = ORT ms / edgegen ms (> 1: edgegen "
          "faster); x real time = seconds of audio per second of compute, median of whole runs (ORT windows: its "
          "median window x the windows; ORT whole: one run of the dynamic-length graph over the whole mel)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
