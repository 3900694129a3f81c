#!/usr/bin/python3
"""Gathers the results of bench/run.sh into one table, and checks that the engines agree.

  /usr/bin/python3 bench/report.py RESULTS_DIR

RESULTS_DIR/models.txt lists the models in order; each
RESULTS_DIR/<model>/t<threads>/ holds edgegen.json (+ edgegen_io/*.npy),
ort.json (+ ort_out/), torch.json (+ torch_out/). Writes RESULTS_DIR/table.md
and RESULTS_DIR/results.json and prints the table. Exits 1 if an engine's
output differs from PyTorch's by more than the tolerance, or a result is missing.
"""

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

# |a - b| <= ATOL * max(1, max |reference|): float32 engines that sum in
# different orders (and fold BatchNorm differently) agree to ~1e-5 here.
ATOL = 1e-3
ENGINES = ("edgegen", "ort", "torch")


def machine():
    info = {"cpu": platform.processor() or "unknown", "logical_cpus": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        fields = {}
        for line in text.splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        info["cpu"] = fields.get("model name", info["cpu"])
        info["cores_per_socket"] = int(fields.get("cpu cores", "0") or 0)
        flags = set(fields.get("flags", "").split())
        info["isa"] = [flag for flag in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_tile") if flag in flags]
    except OSError:
        pass
    info["kernel"] = platform.release()
    try:
        info["load_average_end"] = float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError):
        pass
    info["date"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return info


def load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def compare(reference_files, other_files):
    """Largest |difference| over matching outputs and the tolerance it must meet; None if missing."""
    worst, tolerance = None, None
    for ref_file, other_file in zip(reference_files, other_files):
        if not (ref_file and other_file and Path(ref_file).exists() and Path(other_file).exists()):
            return None, None
        ref, other = np.load(ref_file).astype(np.float64), np.load(other_file).astype(np.float64)
        if ref.shape != other.shape:
            return float("inf"), 0.0
        diff = float(np.max(np.abs(ref - other))) if ref.size else 0.0
        limit = ATOL * max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
        if worst is None or diff / limit > worst / tolerance:
            worst, tolerance = diff, limit
    return worst, tolerance


def gather(results_dir):
    rows, problems = [], []
    for model in (results_dir / "models.txt").read_text().split():
        for threads_dir in sorted((results_dir / model).glob("t*"), key=lambda p: int(p.name[1:])):
            threads = int(threads_dir.name[1:])
            results = {engine: load_json(threads_dir / f"{engine}.json") for engine in ENGINES}
            for engine, result in results.items():
                if result is None:
                    problems.append(f"{model} t{threads}: no {engine} result")
            row = {"model": model, "threads": threads, **results}
            eg = results["edgegen"]
            graph = eg["graphs"][0] if eg else None
            outputs = {
                "edgegen": [o.get("file") for o in graph["outputs"]] if graph else [],
                "ort": sorted(str(p) for p in (threads_dir / "ort_out").glob("output*.npy")),
                "torch": sorted(str(p) for p in (threads_dir / "torch_out").glob("output*.npy")),
            }
            row["agreement"] = {}
            for engine in ("edgegen", "ort"):
                if len(outputs[engine]) != len(outputs["torch"]) or not outputs["torch"]:
                    row["agreement"][engine] = None
                    problems.append(f"{model} t{threads}: {engine} and PyTorch outputs cannot be matched")
                    continue
                diff, tolerance = compare(outputs["torch"], outputs[engine])
                row["agreement"][engine] = {"max_abs_diff": diff, "tolerance": tolerance}
                if diff is None or diff > tolerance:
                    problems.append(f"{model} t{threads}: {engine} differs from PyTorch by {diff} (tolerance {tolerance})")
            rows.append(row)
    return rows, problems


def ms(value):
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def mib(value):
    return "-" if value is None else f"{value / 1048576:.0f}"


def speedup(peer, edgegen):
    return "-" if not peer or not edgegen else f"{peer / edgegen:.2f}×"


def table(rows):
    head = ("| model | MFLOP | thr | edgegen ms | ORT ms | PyTorch ms | ORT/eg | PT/eg | eg GFLOP/s (% peak) "
            "| load ms eg / ORT / PT | peak RSS MiB eg / ORT / PT "
            "| eg arena KiB: plan (lower bound, ratio) + op scratch + packed weights | max abs diff vs PT: eg, ORT |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        eg, ort, pt = row["edgegen"], row["ort"], row["torch"]
        graph = eg["graphs"][0] if eg else {}
        eg_ms = graph.get("median_ms")
        ort_ms = ort["median_ms"] if ort else None
        pt_ms = pt["median_ms"] if pt else None
        agreement = row["agreement"]
        diffs = ", ".join(
            "-" if not agreement.get(e) or agreement[e]["max_abs_diff"] is None else f"{agreement[e]['max_abs_diff']:.1e}"
            for e in ("edgegen", "ort"))
        arena = "-"
        if eg:
            # The plan holds the tensors; op scratch is kernel workspace (layout
            # conversions, transposed convolutions' columns), reused by every op.
            plan, bound = eg["plan_arena_bytes"], eg["plan_lower_bound_bytes"]
            scratch = eg.get("activation_bytes", plan) - plan
            ratio = f"{plan / bound:.2f}×" if bound else "-"
            arena = (f"{plan / 1024:.0f} ({bound / 1024:.0f}, {ratio}) + {scratch / 1024:.0f} + "
                     f"{eg.get('packed_weight_bytes', 0) / 1024:.0f}")
        peak = graph.get("fraction_of_peak")
        gflops = f"{graph.get('gflops_per_second', 0):.2f}" + (f" ({100 * peak:.0f}%)" if peak else "")
        lines.append(
            f"| {row['model']} | {graph.get('flops', 0) / 1e6:.1f} | {row['threads']} | {ms(eg_ms)} | {ms(ort_ms)} | {ms(pt_ms)} "
            f"| {speedup(ort_ms, eg_ms)} | {speedup(pt_ms, eg_ms)} | {gflops} "
            f"| {ms(eg and eg['load_ms'])} / {ms(ort and ort['load_ms'])} / {ms(pt and pt['load_ms'])} "
            f"| {mib(eg and eg['peak_rss_bytes'])} / {mib(ort and ort['peak_rss_bytes'])} / {mib(pt and pt['peak_rss_bytes'])} "
            f"| {arena} | {diffs} |")
    return "\n".join(lines)


def versions(rows):
    for row in rows:
        if all(row[e] for e in ENGINES):
            eg = row["edgegen"]
            return (f"edgegen {eg['version']} ({eg['build_type']}, kernels: {eg['kernels']}, threads used: {eg['threads_used']}), "
                    f"ONNX Runtime {row['ort']['version']} (onnxruntime-node, CPU EP), PyTorch {row['torch']['version']} "
                    f"(Debian python3-torch, eager, inference_mode)")
    return ""


def main():
    results_dir = Path(sys.argv[1])
    rows, problems = gather(results_dir)
    info = machine()
    try:  # written by run.sh before the first measurement
        info["load_average_start"] = float((results_dir / "loadavg.start").read_text().split()[0])
    except (OSError, ValueError):
        pass
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        node = "?"
    header = (f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, ISA: {' '.join(info.get('isa', []))}; "
              f"Linux {info['kernel']}; node {node}; {info['date']}; "
              f"load average {info.get('load_average_start', '?')} at start, {info.get('load_average_end', '?')} at end\n"
              f"{versions(rows)}\n")
    busiest = max(info.get("load_average_start", 0), info.get("load_average_end", 0))
    if busiest > (info["logical_cpus"] or 1):
        header += (f"WARNING: other processes were using the CPUs (load average {busiest} on {info['logical_cpus']} CPUs): "
                   "latencies are inflated, multi-thread figures most of all. Re-run on an idle machine.\n")
    text = header + "\n" + table(rows) + "\n"
    (results_dir / "table.md").write_text(text)
    (results_dir / "results.json").write_text(json.dumps({"machine": info, "rows": rows}, indent=1, default=str))
    print(text)
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print(f"All engines agree with PyTorch within {ATOL} x max(1, max|output|).")


if __name__ == "__main__":
    main()
