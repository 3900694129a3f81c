#!/usr/bin/python3
"""int8 next to float32, edgegen next to ONNX Runtime: sizes, latency, quality. See bench/README.md ("int8").

  /usr/bin/python3 bench/quantized.py EDGEGEN OUT_DIR [MODEL ...]   (bench/quantized.sh runs it)

Per model: convert float32 and int8 (--quantize int8 with the calibration data
below), quantize the float ONNX to QDQ with edgegen's ranges (bench/qdq.py),
check which ops ONNX Runtime runs in integer kernels (its optimized graph), run
the same 8 inputs through all four, and time them interleaved
(edgegen fp32, edgegen int8, ORT fp32, ORT int8 in rotating order, ROUNDS
rounds per thread count; medians). Writes OUT_DIR/results/int8.md and int8.json.
"""

import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("EDGEGEN_QBENCH_ROUNDS", "5"))
THREADS = [int(t) for t in os.environ.get("EDGEGEN_BENCH_THREADS", "1 2").split()]
SAMPLES = 8
# name: ONNX file, input shapes (without batch), output range (None: the fp32 outputs' range), convolutional decoder
MODELS = {
    "digits_gan": ("examples/digits_gan/generator.onnx", {"z": (64, 1, 1)}, (-1, 1), True),
    "digits_vae_encoder": ("examples/digits_vae/encoder.onnx", {"x": (1, 16, 16)}, None, False),
    "digits_vae_decoder": ("examples/digits_vae/decoder.onnx", {"z": (8,)}, (0, 1), True),
    "dcgan32": ("models/dcgan32.onnx", {"z": (100, 1, 1)}, (-1, 1), True),
    "vae64_decoder": ("models/vae64_decoder.onnx", {"z": (128,)}, (0, 1), True),
    "vocoder1d": ("models/vocoder1d.onnx", {"mel": (80, 32)}, (-1, 1), True),
    "realnvp_mlp": ("models/realnvp_mlp.onnx", {"z": (64,)}, None, False),
    "unet_attention": ("models/unet_attention.onnx", {"x": (3, 32, 32), "t": (1,)}, None, False),
}
INTEGER_OPS = ("QLinearConv", "QGemm", "QLinearMatMul", "MatMulInteger", "ConvInteger", "QLinearAdd",
               "QLinearMul", "QLinearLeakyRelu", "QLinearSigmoid", "QLinearConcat", "QLinearAveragePool")
FLOAT_COMPUTE = ("Conv", "ConvTranspose", "Gemm", "MatMul", "FusedConv", "FusedGemm", "FusedMatMul", "NchwcConv")


def log(message):
    print(f"quantized: {message}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, **kw)


def digits():
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits
    x = torch.from_numpy(load_digits().images.astype(np.float32)).unsqueeze(1) / 16.0
    return F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False).numpy()


def samples(name, shapes, count, seed):
    """count samples per input: latents/noise N(0,1), timesteps U(0,1000), real digits for the encoder."""
    rng = np.random.default_rng(seed)
    out = {}
    for input_name, shape in shapes.items():
        if name == "digits_vae_encoder":
            x = digits()
            out[input_name] = x[0::7][:count] if seed == 0 else x[3::7][:count]
        elif input_name == "t":
            out[input_name] = rng.uniform(0, 1000, (count,) + shape).astype(np.float32)
        else:
            out[input_name] = rng.standard_normal((count,) + shape).astype(np.float32)
    return out


def psnr(reference, test, value_range):
    mse = float(np.mean((reference.astype(np.float64) - test) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(value_range ** 2 / mse)


def main():
    edgegen, out = Path(sys.argv[1]), Path(sys.argv[2])
    names = sys.argv[3:] or list(MODELS)
    work = out / "quantized"
    work.mkdir(parents=True, exist_ok=True)
    fp16 = "--weights" in run([edgegen, "convert", "--help"]).stdout
    machine = {
        "cpu": next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
        "logical_cpus": os.cpu_count(),
        "load_start": open("/proc/loadavg").read().split()[:3],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "ort": json.load(open(REPO / "bench/node_modules/onnxruntime-node/package.json"))["version"],
        "fp16_weights": fp16,
    }
    rows = {}
    for name in names:
        onnx_rel, shapes, out_range, conv_decoder = MODELS[name]
        onnx_path = REPO / onnx_rel if onnx_rel.startswith("examples") else out / onnx_rel
        d = work / name
        d.mkdir(exist_ok=True)
        row = {"model": name, "convolutional_decoder": conv_decoder}
        # calibration: 256 samples (the encoder: every 7th digit), a DIR of NAME.npy for several inputs
        cal = samples(name, shapes, 256, 0)
        if len(cal) == 1:
            cal_arg = d / "calibration.npy"
            np.save(cal_arg, next(iter(cal.values())))
        else:
            cal_arg = d / "calibration"
            cal_arg.mkdir(exist_ok=True)
            for k, v in cal.items():
                np.save(cal_arg / f"{k}.npy", v)
        egm = {"fp32": d / "fp32.egm", "int8": d / "int8.egm"}
        log(f"{name}: converting")
        try:
            run([edgegen, "convert", onnx_path, "-o", egm["fp32"]])
            conv_log = run([edgegen, "convert", onnx_path, "-o", egm["int8"], "--quantize", "int8",
                            "--calibration", cal_arg]).stdout
        except subprocess.CalledProcessError as error:
            row["error"] = (error.stdout + error.stderr).strip().splitlines()[-1]
            log(f"{name}: conversion failed: {row['error']}")
            rows[name] = row
            continue
        row["convert_snr"] = next((l.strip() for l in conv_log.splitlines() if "SNR" in l), "")
        row["bytes_fp32"] = egm["fp32"].stat().st_size
        row["bytes_int8"] = egm["int8"].stat().st_size
        if fp16:
            egm16 = d / "fp16.egm"
            try:
                run([edgegen, "convert", onnx_path, "-o", egm16, "--weights", "fp16"])
                row["bytes_fp16"] = egm16.stat().st_size
            except subprocess.CalledProcessError as error:  # e.g. a weight beyond float16's range
                row["bytes_fp16"] = None
                log(f"{name}: --weights fp16 failed: {(error.stdout + error.stderr).strip().splitlines()[-1]}")
        info = d / "int8.info.json"
        info.write_text(run([edgegen, "info", egm["int8"], "--json"]).stdout)
        qdq = d / "qdq.onnx"
        row["qdq"] = json.loads(run(["/usr/bin/python3", REPO / "bench/qdq.py", onnx_path, info, qdq]).stdout)
        import onnx
        # what ONNX Runtime runs: its optimized graph
        subprocess.run(["node", str(REPO / "bench/ort_bench.js"), str(qdq), "--optimized-model",
                        str(d / "qdq.ort.onnx"), "--eval", "/nonexistent"], capture_output=True)  # written at load
        ops = collections.Counter(n.op_type for n in onnx.load(str(d / "qdq.ort.onnx")).graph.node)
        row["ort_int8_ops"] = {k: v for k, v in ops.items() if k in INTEGER_OPS}
        row["ort_float_ops"] = {k: v for k, v in ops.items() if k in FLOAT_COMPUTE}
        row["ort_ops"] = dict(ops)

        # quality: the same 8 inputs (not the calibration ones) through every engine
        ev = samples(name, shapes, SAMPLES, 1)
        ev_dir = d / "eval"
        outputs = {"eg_fp32": [], "eg_int8": [], "ort_int8": []}
        for k in range(SAMPLES):
            sd = ev_dir / f"{k:02d}"
            sd.mkdir(parents=True, exist_ok=True)
            for input_name, v in ev.items():
                np.save(sd / f"{input_name}.npy", v[k] if input_name == "t" else v[k:k + 1])  # t is [1]
            for precision in ("fp32", "int8"):
                od = d / f"eval_out_eg_{precision}" / f"{k:02d}"
                run([edgegen, "run", egm[precision], "-d", od, "--threads", 1]
                    + sum((["-i", f"{n}={sd / (n + '.npy')}"] for n in ev), []))
        run(["node", REPO / "bench/ort_bench.js", qdq, "--eval", ev_dir, "--save-output", d / "eval_out_ort_int8"])
        out_names = [o["name"] for o in json.load(open(info))["graphs"][0]["outputs"]]
        for k in range(SAMPLES):
            for precision in ("fp32", "int8"):
                outputs[f"eg_{precision}"].append(np.concatenate(
                    [np.load(d / f"eval_out_eg_{precision}/{k:02d}/{n}.npy").ravel() for n in out_names]))
            outputs["ort_int8"].append(np.concatenate(
                [np.load(d / f"eval_out_ort_int8/{k:02d}/output{i}.npy").ravel() for i in range(len(out_names))]))
        ref = np.stack(outputs["eg_fp32"])
        value_range = (out_range[1] - out_range[0]) if out_range else float(ref.max() - ref.min())
        row["psnr_range"] = f"[{out_range[0]}, {out_range[1]}]" if out_range else f"fp32 max-min {value_range:.3g}"
        for engine in ("eg_int8", "ort_int8"):
            test = np.stack(outputs[engine])
            row[f"psnr_{engine}"] = psnr(ref, test, value_range)
            row[f"maxabs_{engine}"] = float(np.abs(ref - test).max())
        rows[name] = row
        row["_bench_inputs"] = [f"{n}={ev_dir / '00' / (n + '.npy')}" for n in ev]
        row["_qdq"], row["_onnx"], row["_egm"] = str(qdq), str(onnx_path), {k: str(v) for k, v in egm.items()}

    # latency, interleaved: every round runs the four engines in a rotated order
    engines = ["eg_fp32", "eg_int8", "ort_fp32", "ort_int8"]
    times = {(n, t, e): [] for n in rows for t in THREADS for e in engines}
    for r in range(ROUNDS):
        for name, row in rows.items():
            if "error" in row:
                continue
            for t in THREADS:
                order = engines[r % 4:] + engines[:r % 4]
                for e in order:
                    if e.startswith("eg"):
                        j = json.loads(run([edgegen, "bench", row["_egm"][e[3:]], "--json", "--threads", t,
                                            "--runs", 10, "--warmup", 3, "--min-time", 0.2, "--backend", "xnnpack"]).stdout)
                        ms = j["graphs"][0]["median_ms"]
                    else:
                        model = row["_onnx"] if e == "ort_fp32" else row["_qdq"]
                        j = json.loads(run(["node", REPO / "bench/ort_bench.js", model, "--threads", t, "--runs", 10,
                                            "--warmup", 3, "--min-time", 0.2]
                                           + sum((["--input", i] for i in row["_bench_inputs"]), []),
                                           env={**os.environ, "OMP_NUM_THREADS": str(t)}).stdout)
                        ms = j["median_ms"]
                    times[(name, t, e)].append(ms)
        log(f"round {r + 1}/{ROUNDS} done")
    for name, row in rows.items():
        if "error" in row:
            continue
        row["latency"] = {}
        for t in THREADS:
            m = {e: float(np.median(times[(name, t, e)])) for e in engines}
            ratio = lambda a, b: float(np.median(np.array(times[(name, t, a)]) / np.array(times[(name, t, b)])))
            m["int8_vs_fp32"] = ratio("eg_fp32", "eg_int8")  # per-round ratios, median
            m["eg_int8_vs_ort_int8"] = ratio("ort_int8", "eg_int8")
            m["ort_int8_vs_ort_fp32"] = ratio("ort_fp32", "ort_int8")
            m["rounds"] = ROUNDS
            row["latency"][t] = m
    machine["load_end"] = open("/proc/loadavg").read().split()[:3]
    for row in rows.values():
        for k in [k for k in row if k.startswith("_")]:
            del row[k]
    results = out / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "int8.json").write_text(json.dumps({"machine": machine, "rows": list(rows.values())}, indent=1))
    table = render(machine, rows)
    (results / "int8.md").write_text(table)
    print(table)


def render(machine, rows):
    f = lambda x: "—" if x is None else (f"{x:.3g}" if x < 100 else f"{x:.0f}")
    aim = lambda ok: "✓" if ok else "✗"
    lines = [f"Machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs; {machine['date']}; "
             f"load average {machine['load_start'][0]} at start, {machine['load_end'][0]} at end; "
             f"ONNX Runtime {machine['ort']} (onnxruntime-node, CPU EP); edgegen XNNPACK backend; "
             f"medians of {ROUNDS} interleaved rounds (each ≥10 runs and ≥0.2 s per engine)", ""]
    lines += ["| model | bytes fp32 | fp16 --weights (×fp32) | int8 (×fp32, aim ≤0.27) | thr | eg fp32 ms | eg int8 ms | int8/fp32 speed-up (aim ≥2.5 conv dec.) "
              "| ORT fp32 ms | ORT int8 ms | eg int8 vs ORT int8 (aim ≥1.5) | PSNR eg int8 / ORT int8 dB (aim ≥35 dec.) | max abs err eg / ORT | range |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        if "error" in row:
            lines.append(f"| {name} | not converted: {row['error']} |" + " |" * 12)
            continue
        size_ratio = row["bytes_int8"] / row["bytes_fp32"]
        fp16 = "n/a" if not machine["fp16_weights"] else (
            f"{row['bytes_fp16']:,} ({row['bytes_fp16'] / row['bytes_fp32']:.3f}×)" if row.get("bytes_fp16") else "failed")
        dec = row["convolutional_decoder"]
        for t, m in row["latency"].items():
            first = t == THREADS[0]
            speed = f"{m['int8_vs_fp32']:.2f}×" + (f" {aim(m['int8_vs_fp32'] >= 2.5)}" if dec else "")
            vs_ort = f"{m['eg_int8_vs_ort_int8']:.2f}× {aim(m['eg_int8_vs_ort_int8'] >= 1.5)}"
            quality = (f"{row['psnr_eg_int8']:.1f} / {row['psnr_ort_int8']:.1f}"
                       + (f" {aim(row['psnr_eg_int8'] >= 35)}" if dec else "")) if first else ""
            lines.append(
                f"| {name if first else ''} | {row['bytes_fp32']:,} | {fp16} | "
                f"{row['bytes_int8']:,} ({size_ratio:.3f}× {aim(size_ratio <= 0.27)}) | {t} | "
                f"{f(m['eg_fp32'])} | {f(m['eg_int8'])} | {speed} | {f(m['ort_fp32'])} | {f(m['ort_int8'])} | {vs_ort} | "
                f"{quality} | {'%.2g / %.2g' % (row['maxabs_eg_int8'], row['maxabs_ort_int8']) if first else ''} | "
                f"{row['psnr_range'] if first else ''} |")
    lines += ["", "What ONNX Runtime runs on the QDQ model (its optimized graph; integer kernels / float compute ops left):", ""]
    for name, row in rows.items():
        if "error" not in row:
            lines.append(f"- {name}: int8 {row['ort_int8_ops'] or 'none'}; float {row['ort_float_ops'] or 'none'}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
