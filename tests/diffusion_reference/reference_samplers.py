"""Reference implementations of the runtime's diffusion samplers, numpy only.

Written from the papers' equations, independently of the C++ code: DDIM,
DDPM and LCM are stepped in the variance-preserving form of their papers
(x_t = sqrt(abar) x0 + sqrt(1 - abar) eps), DPM-Solver++ in its
data-prediction form over lambda = log(alpha / sigma), Euler and Heun over the
ODE of Karras et al. Trajectories are reported in the variance-exploding
scale x / sqrt(abar), the runtime's convention (runtime/include/edgegen/diffusion.h).

  DDIM        Song, Meng & Ermon, "Denoising Diffusion Implicit Models", ICLR 2021, eqs. 12, 16
  DDPM        Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020, eqs. 6-7
  Euler/Heun  Karras, Aittala, Aila & Laine, "Elucidating the Design Space ...", NeurIPS 2022, Alg. 1-2, eq. 5
  DPM++ 2M/3M Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver++", 2022, Alg. 2 and the multistep order-3 scheme
  LCM         Luo, Tan, Huang, Li & Zhao, "Latent Consistency Models", 2023, Alg. 1
  RePaint     Lugmayr et al., "RePaint", CVPR 2022, Alg. 1
"""

import math

import numpy as np


# --- schedules ---------------------------------------------------------------

def alphas_cumprod(kind, train_steps=1000, beta_start=1e-4, beta_end=0.02):
    if kind == "linear":
        betas = np.linspace(beta_start, beta_end, train_steps, dtype=np.float64)
    elif kind == "scaled_linear":
        betas = np.linspace(beta_start ** 0.5, beta_end ** 0.5, train_steps, dtype=np.float64) ** 2
    elif kind == "cosine":  # Nichol & Dhariwal 2021
        f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = np.array([min(1 - f((t + 1) / train_steps) / f(t / train_steps), 0.999) for t in range(train_steps)])
    else:
        raise ValueError(kind)
    return np.cumprod(1.0 - betas)


def sigma_of(abar):
    return np.sqrt((1 - abar) / abar)


def step_plan(abar, steps, spacing="trailing", karras=False):
    """(sigmas[steps + 1], timesteps[steps]); the last sigma is 0."""
    T = len(abar)
    if karras:
        rho = 7.0
        smin, smax = sigma_of(abar[0]), sigma_of(abar[-1])
        ramp = np.linspace(0, 1, steps) if steps > 1 else np.zeros(1)
        sig = (smax ** (1 / rho) + ramp * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
        log_table = np.log(sigma_of(abar))
        ts = np.interp(np.log(sig), log_table, np.arange(T, dtype=np.float64))
    else:
        if spacing == "leading":
            ts = (np.arange(steps)[::-1] * (T // steps)).astype(np.float64)
        elif spacing == "trailing":
            ts = np.round(T - np.arange(steps) * T / steps) - 1
        elif spacing == "linspace":
            ts = np.round(np.linspace(0, T - 1, steps))[::-1] if steps > 1 else np.array([T - 1.0])
        ts = np.maximum(ts, 0)
        sig = sigma_of(abar[ts.astype(int)])
    return np.append(sig, 0.0), ts


# --- the samplers ---------------------------------------------------------------

def abar_of(sigma):
    return 1.0 / (1.0 + sigma * sigma)


def sample(kind, denoise, noise, x_T, abar, sigmas, ts, eta=0.0, known=None, mask=None, resample=1):
    """Runs `kind`; denoise(x_ve, sigma, t) -> x0; noise(key) -> array like x.
    x_T is unit-variance noise. Returns the VE-scale x after every step."""
    n = len(ts)
    x = x_T * math.sqrt(1 + sigmas[0] ** 2)  # VE
    trajectory = []
    hist = []      # committed past x0 predictions, newest first
    hs = []        # their step sizes in lambda, newest first
    repeats = resample if known is not None and resample > 1 else 1
    for i in range(n):
        s, sn, t = sigmas[i], sigmas[i + 1], ts[i]
        for r in range(repeats):
            key = lambda use: (i * repeats + r) * 4 + use
            commit = r == repeats - 1
            a, an = abar_of(s), abar_of(sn)
            if kind == "ddim":
                x_vp = math.sqrt(a) * x
                x0 = denoise(x, s, t)
                eps = (x_vp - math.sqrt(a) * x0) / math.sqrt(1 - a)
                sd = eta * math.sqrt((1 - an) / (1 - a)) * math.sqrt(1 - a / an)
                nxt = math.sqrt(an) * x0 + math.sqrt(max(1 - an - sd * sd, 0)) * eps
                if sd > 0:
                    nxt = nxt + sd * noise(key(0))
                x = nxt / math.sqrt(an)
            elif kind == "ddpm":
                x_vp = math.sqrt(a) * x
                x0 = denoise(x, s, t)
                beta = 1 - a / an
                mean = math.sqrt(an) * beta / (1 - a) * x0 + math.sqrt(a / an) * (1 - an) / (1 - a) * x_vp
                var = (1 - an) / (1 - a) * beta
                nxt = mean + math.sqrt(var) * noise(key(0)) if var > 0 else mean
                x = nxt / math.sqrt(an)
            elif kind == "euler":
                x0 = denoise(x, s, t)
                x = x + (x - x0) / s * (sn - s)
            elif kind == "euler_a":
                x0 = denoise(x, s, t)
                up = min(sn, math.sqrt(sn ** 2 * (s ** 2 - sn ** 2) / s ** 2))
                down = math.sqrt(sn ** 2 - up ** 2)
                x = x + (x - x0) / s * (down - s)
                if up > 0:
                    x = x + up * noise(key(0))
            elif kind == "heun":
                x0 = denoise(x, s, t)
                d = (x - x0) / s
                x2 = x + d * (sn - s)
                if sn == 0:
                    x = x2
                else:
                    d2 = (x2 - denoise(x2, sn, ts[i + 1])) / sn
                    x = x + 0.5 * (d + d2) * (sn - s)
            elif kind in ("dpmpp_2m", "dpmpp_3m"):
                # VP form: alpha = sqrt(abar), sigma_vp = sqrt(1 - abar), lambda = log(alpha / sigma_vp).
                x0 = denoise(x, s, t)
                if sn == 0:
                    x = x0
                    h = 0.0
                else:
                    al, alp = math.sqrt(a), math.sqrt(an)
                    sv, svn = math.sqrt(1 - a), math.sqrt(1 - an)
                    lam, lamn = math.log(al / sv), math.log(alp / svn)
                    h = lamn - lam
                    x_vp = al * x
                    if kind == "dpmpp_2m":
                        if hist:
                            rr = hs[0] / h
                            dd = (1 + 1 / (2 * rr)) * x0 - 1 / (2 * rr) * hist[0]
                        else:
                            dd = x0
                        nxt = svn / sv * x_vp - alp * math.expm1(-h) * dd
                    else:
                        nxt = svn / sv * x_vp - alp * math.expm1(-h) * x0
                        phi2 = math.expm1(-h) / h + 1
                        phi3 = phi2 / h - 0.5
                        if len(hist) >= 2:
                            r0, r1 = hs[0] / h, hs[1] / h
                            d10 = (x0 - hist[0]) / r0
                            d11 = (hist[0] - hist[1]) / r1
                            d1 = d10 + (d10 - d11) * r0 / (r0 + r1)
                            d2 = (d10 - d11) / (r0 + r1)
                            nxt = nxt + alp * (phi2 * d1 - phi3 * d2)
                        elif len(hist) == 1:
                            nxt = nxt + alp * phi2 * (x0 - hist[0]) / (hs[0] / h)
                    x = nxt / alp
                if commit:
                    hist = [x0] + hist[:1]
                    hs = [h] + hs[:1]
            elif kind == "lcm":
                x_vp = math.sqrt(a) * x
                x0 = denoise(x, s, t)
                st, sd = 10.0 * t, 0.5
                c_skip = sd * sd / (st * st + sd * sd)
                c_out = st / math.sqrt(st * st + sd * sd)
                f = c_skip * x_vp + c_out * x0
                x = (math.sqrt(an) * f + math.sqrt(1 - an) * noise(key(0))) / math.sqrt(an) if sn > 0 else f
            else:
                raise ValueError(kind)
            if known is not None:
                z = noise(key(1)) if sn > 0 else 0.0
                x = np.where(mask > 0.5, known + sn * z, x)
                if not commit:
                    x = x + math.sqrt(s * s - sn * sn) * noise(key(2))
        trajectory.append(np.array(x, dtype=np.float64))
    return trajectory
