#!/usr/bin/python3
"""Quality of the latent diffusion example vs sampler, steps and guidance, measured with edgegen.

For each configuration, generates pictures with `edgegen sample --context`
(prompts cycling over the 26 letters and 4 ink colours), scores them with
the committed letter classifier run by `edgegen run`, and prints a Markdown
table of
  - letter accuracy: the fraction classified as the letter asked for;
  - colour accuracy: the fraction whose ink (pixels far from the paper) is
    nearest to the colour asked for;
  - FD: the Fréchet distance between Gaussian fits of the classifier's 64-d
    features of the samples and of the training pictures (the FID recipe of
    Heusel et al. 2017 with our small classifier); lower is better.
Pictures are scored as a PNG shows them: clipped to the output range [-1, 1].
Also prints the same for the autoencoder's reconstructions of real pictures
(the ceiling the decoder sets) and the time per picture at one thread.

  /usr/bin/python3 examples/latent_diffusion/quality.py [--edgegen build/edgegen] [-n 104] [--int8]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import context as text_encoder  # noqa: E402

CONFIGS = [("dpmpp_2m", 8, 1.0), ("dpmpp_2m", 8, 3.0), ("dpmpp_2m", 20, 3.0), ("euler_a", 20, 3.0),
           ("ddim", 50, 3.0)]
COLORS = np.array([(200, 30, 30), (20, 140, 40), (30, 60, 210), (25, 25, 25)], np.float32) / 127.5 - 1
BATCH = 104


def run(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{result.stderr}")
    return result.stdout


def classify(edgegen, clf, pictures, work):
    logits, feats = [], []
    n = len(pictures)
    padded = np.concatenate([pictures, np.zeros((-n % BATCH,) + pictures.shape[1:], np.float32)])
    for start in range(0, len(padded), BATCH):
        np.save(work / "chunk.npy", padded[start:start + BATCH].astype(np.float32))
        run([edgegen, "run", clf, "-i", f"x={work / 'chunk.npy'}", "-d", work / "out"])
        logits.append(np.load(work / "out" / "logits.npy"))
        feats.append(np.load(work / "out" / "features.npy"))
    return np.concatenate(logits)[:n], np.concatenate(feats)[:n].astype(np.float64)


def ink_colour(pictures):
    """Index of the palette colour nearest to each picture's ink (pixels far from the paper)."""
    result = []
    for p in pictures:
        flat = p.reshape(3, -1).T
        paper = np.median(flat, axis=0)
        far = flat[np.linalg.norm(flat - paper, axis=1) > 0.5]
        ink = far.mean(0) if len(far) else paper
        result.append(int(np.argmin(np.linalg.norm(COLORS - ink, axis=1))))
    return np.array(result)


def frechet(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    w2 = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.sqrt(np.clip(w2, 0, None)).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgegen", default="build/edgegen")
    parser.add_argument("-n", type=int, default=104, help="pictures per configuration (104 = every prompt once)")
    parser.add_argument("--int8", action="store_true", help="the three graphs quantized to int8 (edgegen convert "
                        "--quantize int8, calibrated on the model's own sampling); the classifier stays float32")
    args = parser.parse_args()
    quantize = ["--quantize", "int8"] if args.int8 else []
    edgegen = str(Path(args.edgegen).resolve())
    work = Path(tempfile.mkdtemp(prefix="edgegen_latent_quality_"))
    model, clf, model1 = work / "latent.egm", work / "classifier.egm", work / "latent1.egm"
    run([edgegen, "convert", HERE / "manifest.json", "-o", model, "--batch", "8", *quantize])
    run([edgegen, "convert", HERE / "manifest.json", "-o", model1, "--batch", "2", *quantize])
    run([edgegen, "convert", HERE / "classifier.onnx", "-o", clf, "--batch", str(BATCH)])

    import train  # the training pictures (PIL, torch), for the reference features
    real, real_letters, real_colors = (t.numpy() for t in train.make_data(per_combination=1))
    _, real_feats = classify(edgegen, clf, real, work)

    prompts = text_encoder.all_prompts()
    prompts = [prompts[i % len(prompts)] for i in range(args.n)]
    np.save(work / "ctx.npy", text_encoder.encode(prompts))
    table = np.load(HERE / "text_encoder.npz")
    letters = np.array([list(table["letter_names"]).index(p.split()[1]) for p in prompts])
    colors = np.array([list(table["color_names"]).index(p.split()[0]) for p in prompts])

    rows = []
    # The autoencoder's ceiling: real pictures through img2img at strength 0 (encode, decode).
    order = np.random.default_rng(0).permutation(len(real))[:args.n]
    subset = real[order]
    np.save(work / "real.npy", subset)
    run([edgegen, "img2img", model, "--image", work / "real.npy", "--strength", "0", "-n", len(subset), "-q",
         "-o", work / "recon.npy"])
    recon = np.clip(np.load(work / "recon.npy"), -1, 1)
    logits, feats = classify(edgegen, clf, recon, work)
    rows.append(("autoencoder reconstruction of real pictures", "", "",
                 float((logits.argmax(1) == real_letters[order]).mean()),
                 float((ink_colour(recon) == real_colors[order]).mean()), frechet(feats, real_feats), ""))
    for sampler, steps, guidance in CONFIGS:
        out = work / "samples.npy"
        run([edgegen, "sample", model, "--sampler", sampler, "--steps", steps, "--guidance", guidance, "--context",
             work / "ctx.npy", "-n", args.n, "--seed", "1", "-q", "-o", out])
        # Scored as the pictures are seen (PNG): clipped to the output range
        # [-1, 1]. Guidance pushes some latents off the training
        # distribution, where the decoder puts a few pixels far out of range
        # (|x| up to ~40), which would dominate the features' statistics.
        samples = np.clip(np.load(out), -1, 1)
        logits, feats = classify(edgegen, clf, samples, work)
        # Time per picture at one thread (batch 2: the guided pair), 4 pictures.
        start = time.time()
        run([edgegen, "sample", model1, "--sampler", sampler, "--steps", steps, "--guidance", guidance, "--context",
             work / "ctx.npy", "-n", args.n, "--seed", "1", "-q", "--threads", "1", "-o", work / "timed.npy"])
        ms = (time.time() - start) * 1e3 / args.n
        rows.append((sampler, steps, guidance, float((logits.argmax(1) == letters).mean()),
                     float((ink_colour(samples) == colors).mean()), frechet(feats, real_feats), f"{ms:.1f}"))
        print(rows[-1], file=sys.stderr, flush=True)

    print(f"\n{args.n} pictures per row (prompts cycling over 26 letters x 4 colours), seed 1, trailing spacing"
          f"{', int8 model' if args.int8 else ''}.\n")
    print("| sampler | steps | guidance | letter accuracy | colour accuracy | FD (lower is better) | ms / picture, 1 thread |")
    print("|---|---|---|---|---|---|---|")
    for sampler, steps, guidance, acc, col, fd, ms in rows:
        print(f"| {sampler} | {steps} | {guidance} | {acc:.2f} | {col:.2f} | {fd:.1f} | {ms} |")


if __name__ == "__main__":
    main()
