#!/usr/bin/python3
"""Writes tests/diffusion_reference/trajectories.txt: for every sampler and a
few plans, the reference trajectory (x after every step, VE scale) of a tiny
analytic denoiser from fixed x_T and fixed noise. The runtime test
(runtime/samplers/samplers_test.cc) re-runs each case and compares every step.

The denoiser and the noise are closed-form so the C++ test computes the same:
  D(x, sigma, t)[e] = 0.8 tanh(x[e] / sqrt(1 + sigma^2)) + 0.1 cos(0.01 t + e)
  noise(key)[e]     = sin(1.3 (e + 1) + 0.7 (key + 1)) * 1.5
  x_T[e]            = sin(0.9 (e + 1)) * 1.2
  known[e] = 0.5 cos(e), mask[e] = 1 for even e.

Run from the repository root: /usr/bin/python3 tests/diffusion_reference/make_fixtures.py
"""

import math
from pathlib import Path

import numpy as np

from reference_samplers import alphas_cumprod, sample, step_plan

N = 12  # two items of six values
E = np.arange(N, dtype=np.float64)


def denoise(x, sigma, t):
    return 0.8 * np.tanh(x / math.sqrt(1 + sigma * sigma)) + 0.1 * np.cos(0.01 * t + E)


def noise(key):
    return np.sin(1.3 * (E + 1) + 0.7 * (key + 1)) * 1.5


CASES = []
for sampler in ["ddim", "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_3m", "ddpm", "lcm"]:
    for steps, spacing, karras in [(1, "trailing", False), (4, "trailing", False), (8, "leading", False),
                                   (5, "linspace", True)]:
        CASES.append((sampler, steps, spacing, karras, 0.0, False, 1))
CASES += [("ddim", 6, "trailing", False, 0.5, False, 1), ("ddim", 4, "leading", False, 1.0, False, 1)]
for sampler in ["ddim", "dpmpp_2m", "euler_a"]:
    CASES.append((sampler, 5, "trailing", False, 0.0, True, 3))
CASES.append(("heun", 4, "trailing", False, 0.0, True, 1))


def main():
    abar = alphas_cumprod("linear")
    lines = []
    x_T = np.sin(0.9 * (E + 1)) * 1.2
    known = 0.5 * np.cos(E)
    mask = (E % 2 == 0).astype(np.float64)
    for sampler, steps, spacing, karras, eta, inpaint, resample in CASES:
        sigmas, ts = step_plan(abar, steps, spacing, karras)
        traj = sample(sampler, denoise, noise, x_T, abar, sigmas, ts, eta=eta,
                      known=known if inpaint else None, mask=mask if inpaint else None, resample=resample)
        lines.append(f"case {sampler} {steps} {spacing} {int(karras)} {eta} {int(inpaint)} {resample}")
        lines.append("sigmas " + " ".join(f"{v:.9g}" for v in sigmas))
        lines.append("timesteps " + " ".join(f"{v:.9g}" for v in ts))
        for step, x in enumerate(traj):
            lines.append(f"step {step} " + " ".join(f"{v:.9g}" for v in x))
    # Schedules: a few alphas_cumprod values of each kind.
    for kind in ["linear", "scaled_linear", "cosine"]:
        table = alphas_cumprod(kind, 1000, 0.00085, 0.012) if kind == "scaled_linear" else alphas_cumprod(kind)
        picks = [0, 1, 10, 100, 500, 999]
        lines.append(f"schedule {kind} " + " ".join(f"{i}:{table[i]:.9g}" for i in picks))
    out = Path(__file__).resolve().parent / "trajectories.txt"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
