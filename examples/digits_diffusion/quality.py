#!/usr/bin/python3
"""Quality of the digits diffusion model vs sampler and steps, measured with edgegen.

For every sampler and 1, 2, 4, 8, 20 steps (plus 50-step DDIM as the
reference), generates class-conditional samples (classes cycling 0..9) with
`edgegen sample`, scores them with the committed classifier run by
`edgegen run`, and prints a Markdown table of
  - accuracy: the fraction classified as the class asked for;
  - FD: the Fréchet distance between Gaussian fits of the classifier's
    64-d penultimate features of the samples and of the real digits
    (the FID recipe of Heusel et al. 2017 with our small classifier).
Lower FD is better; real held-in digits score FD ~0 and accuracy ~1.

  /usr/bin/python3 examples/digits_diffusion/quality.py [--edgegen build/edgegen] [-n 200] [--guidance 2]

With --int8, compares instead the float32 model with its int8 quantization
(`convert --quantize int8`, calibrated on its own sampling trajectories) at
4 and 20 steps of one sampler (--samplers, default dpmpp_2m), same seeds.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

HERE = Path(__file__).resolve().parent
SAMPLERS = ["ddim", "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_3m", "ddpm", "lcm"]
STEPS = [1, 2, 4, 8, 20]
CLASSIFIER_BATCH = 100


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{result.stderr}")


def real_digits():
    import torch
    import torch.nn.functional as F
    digits = load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32)).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False).clamp(0, 1)
    return (x * 2 - 1).numpy()


def classify(edgegen, clf, images, work):
    """(logits, features) of images [N,1,16,16] by the classifier in edgegen, 100 at a time."""
    logits, feats = [], []
    n = len(images)
    padded = np.concatenate([images, np.zeros((-n % CLASSIFIER_BATCH, 1, 16, 16), np.float32)])
    for start in range(0, len(padded), CLASSIFIER_BATCH):
        np.save(work / "chunk.npy", padded[start:start + CLASSIFIER_BATCH].astype(np.float32))
        run([edgegen, "run", clf, "-i", f"x={work / 'chunk.npy'}", "-d", work / "out"])
        logits.append(np.load(work / "out" / "logits.npy"))
        feats.append(np.load(work / "out" / "features.npy"))
    return np.concatenate(logits)[:n], np.concatenate(feats)[:n].astype(np.float64)


def frechet(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # sqrt of cov_a cov_b via the symmetric form sqrt(A^1/2 B A^1/2).
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    w2 = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.sqrt(np.clip(w2, 0, None)).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgegen", default="build/edgegen")
    parser.add_argument("-n", type=int, default=200, help="samples per configuration")
    parser.add_argument("--guidance", type=float, default=2.0)
    parser.add_argument("--samplers", default=None)
    parser.add_argument("--int8", action="store_true", help="float32 vs int8 at 4 and 20 steps")
    args = parser.parse_args()
    if args.samplers is None:
        args.samplers = "dpmpp_2m" if args.int8 else ",".join(SAMPLERS)
    edgegen = str(Path(args.edgegen).resolve())
    work = Path(tempfile.mkdtemp(prefix="edgegen_quality_"))
    model, clf = work / "diffusion.egm", work / "classifier.egm"
    run([edgegen, "convert", HERE / "manifest.json", "-o", model, "--batch", "20"])
    run([edgegen, "convert", HERE / "classifier.onnx", "-o", clf, "--batch", str(CLASSIFIER_BATCH)])

    real = real_digits()
    _, real_feats = classify(edgegen, clf, real, work)
    labels = np.arange(args.n) % 10
    if args.int8:
        compare_int8(args, edgegen, model, clf, real_feats, labels, work)
        return

    configs = [(s, k) for s in args.samplers.split(",") for k in STEPS] + [("ddim", 50)]
    results = {}
    for sampler, steps in configs:
        start = time.time()
        out = work / "samples.npy"
        run([edgegen, "sample", model, "--sampler", sampler, "--steps", str(steps), "--guidance", str(args.guidance),
             "--class", "cycle", "-n", str(args.n), "--seed", "1", "-q", "-o", out])
        samples = np.load(out)
        logits, feats = classify(edgegen, clf, samples, work)
        acc = float((logits.argmax(1) == labels).mean())
        fd = frechet(feats, real_feats)
        results[(sampler, steps)] = (acc, fd)
        print(f"{sampler:9s} {steps:3d} steps: accuracy {acc:.3f}  FD {fd:8.2f}  ({time.time() - start:.0f} s)",
              file=sys.stderr, flush=True)

    ref_acc, ref_fd = results[("ddim", 50)]
    print(f"\n{args.n} samples per cell, classes cycling 0-9, guidance {args.guidance}, seed 1, "
          f"trailing spacing. Cells: class accuracy / Fréchet distance (lower is better).\n")
    print("| sampler | " + " | ".join(f"{k} steps" for k in STEPS) + " |")
    print("|---|" + "---|" * len(STEPS))
    for sampler in args.samplers.split(","):
        cells = [f"{results[(sampler, k)][0]:.2f} / {results[(sampler, k)][1]:.1f}" for k in STEPS]
        print(f"| {sampler} | " + " | ".join(cells) + " |")
    print(f"| ddim, 50 steps (reference) | {ref_acc:.2f} / {ref_fd:.1f} |" + " |" * (len(STEPS) - 1))
    best4 = min((results[(s, 4)][1], s) for s in args.samplers.split(","))
    print(f"\nBest at 4 steps: {best4[1]} FD {best4[0]:.1f} vs 50-step DDIM FD {ref_fd:.1f} "
          f"({100 * (best4[0] / ref_fd - 1):+.0f}%).")


def compare_int8(args, edgegen, model, clf, real_feats, labels, work):
    int8 = work / "diffusion_int8.egm"
    run([edgegen, "convert", HERE / "manifest.json", "-o", int8, "--batch", "20", "--quantize", "int8"])
    sampler = args.samplers.split(",")[0]
    print(f"{args.n} samples per cell, {sampler}, classes cycling 0-9, guidance {args.guidance}, seed 1.\n")
    print("| steps | float32 accuracy | int8 accuracy | float32 FD | int8 FD | int8 FD vs float32 | sample PSNR int8 vs float32 |")
    print("|---|---|---|---|---|---|---|")
    for steps in (4, 20):
        cells = {}
        for name, path in (("float32", model), ("int8", int8)):
            out = work / f"samples_{name}.npy"
            run([edgegen, "sample", path, "--sampler", sampler, "--steps", str(steps), "--guidance",
                 str(args.guidance), "--class", "cycle", "-n", str(args.n), "--seed", "1", "-q", "-o", out])
            samples = np.load(out)
            logits, feats = classify(edgegen, clf, samples, work)
            cells[name] = (float((logits.argmax(1) == labels).mean()), frechet(feats, real_feats), samples)
        mse = float(((cells["float32"][2] - cells["int8"][2]) ** 2).mean())
        psnr = 10 * np.log10(4.0 / mse) if mse > 0 else float("inf")  # range [-1, 1]
        f, q = cells["float32"], cells["int8"]
        print(f"| {steps} | {f[0]:.3f} | {q[0]:.3f} | {f[1]:.2f} | {q[1]:.2f} | {100 * (q[1] / f[1] - 1):+.1f}% | {psnr:.1f} dB |",
              flush=True)


if __name__ == "__main__":
    main()
