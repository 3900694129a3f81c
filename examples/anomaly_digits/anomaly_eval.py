"""Shared by the anomaly examples' evaluate.py: AUROC of edgegen's density
models beside scikit-learn's usual first tries on the same split, and rows
per second of `edgegen score` vs the same model in PyTorch (one thread).

Anomaly score = -log-likelihood (edgegen) or the baseline's own negated
score_samples / decision function. AUROC: normal test rows = 0, anomalies = 1.
"""

import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity

torch.set_num_threads(1)
TIMING_ROWS = 20000


def auroc(normal_scores, anomaly_scores):
    """AUROC with higher = more anomalous."""
    y = np.r_[np.zeros(len(normal_scores)), np.ones(len(anomaly_scores))]
    return roc_auc_score(y, np.r_[normal_scores, anomaly_scores])


def baselines(train, test_normal, test_anomaly):
    out = {}
    forest = IsolationForest(n_estimators=200, random_state=0).fit(train)
    out["sklearn IsolationForest"] = auroc(-forest.score_samples(test_normal), -forest.score_samples(test_anomaly))
    best = None
    for k in (1, 2, 4, 8):
        for cov in ("full", "diag"):
            gmm = GaussianMixture(k, covariance_type=cov, reg_covar=1e-3, random_state=0).fit(train)
            bic = gmm.bic(train)
            if best is None or bic < best[0]:
                best = (bic, gmm)
    gmm = best[1]
    out[f"sklearn GaussianMixture ({gmm.n_components}, {gmm.covariance_type}; BIC)"] = auroc(
        -gmm.score_samples(test_normal), -gmm.score_samples(test_anomaly))
    grid = GridSearchCV(KernelDensity(), {"bandwidth": np.logspace(-1.5, 1.5, 13) * train.std()}, cv=3).fit(train)
    kde = grid.best_estimator_
    out[f"sklearn KernelDensity (bandwidth {kde.bandwidth:.3g}; CV)"] = auroc(
        -kde.score_samples(test_normal), -kde.score_samples(test_anomaly))
    return out


def edgegen_scores(edgegen, egm, rows, extra=()):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "rows.npy"
        np.save(data, rows.astype(np.float32))
        out = Path(tmp) / "scores.csv"
        subprocess.run([edgegen, "score", egm, "--input", str(data), "-o", str(out), *extra], check=True,
                       stdout=subprocess.DEVNULL)
        return np.loadtxt(out, delimiter=",", skiprows=1, ndmin=2)[:, 1]


def edgegen_rows_per_second(edgegen, egm, rows, extra=()):
    tiled = np.resize(rows, (TIMING_ROWS, rows.shape[1])).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "rows.npy"
        np.save(data, tiled)
        start = time.perf_counter()
        subprocess.run([edgegen, "score", egm, "--input", str(data), "-o", str(Path(tmp) / "s.csv"), "--batch", "256",
                        *extra], check=True, stdout=subprocess.DEVNULL)
        return TIMING_ROWS / (time.perf_counter() - start)


def torch_rows_per_second(log_prob_fn, rows):
    tiled = torch.from_numpy(np.resize(rows, (TIMING_ROWS, rows.shape[1])).astype(np.float32))
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, TIMING_ROWS, 256):
            log_prob_fn(tiled[i:i + 256])
    return TIMING_ROWS / (time.perf_counter() - start)


def convert(edgegen, manifest, egm, batch=64, calibration=None):
    """Converts `manifest`; with `calibration` (rows in the model's data units) quantized to int8."""
    command = [edgegen, "convert", str(manifest), "-o", str(egm), "--batch", str(batch)]
    if calibration is not None:
        data = Path(egm).with_suffix(".calibration.npy")
        np.save(data, calibration.astype(np.float32))
        command += ["--quantize", "int8", "--calibration", str(data)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def print_table(title, rows):
    """rows: (method, auroc, edgegen rows/s or None, torch rows/s or None[, mean log p or None])."""
    with_log_p = any(len(row) > 4 for row in rows)
    header = "| model | AUROC | edgegen score rows/s | PyTorch rows/s |" + (" mean log p, held-out normal (nats) |"
                                                                          if with_log_p else "")
    lines = [f"### {title}", "", header, "|---|---|---|---|" + ("---|" if with_log_p else "")]
    for method, value, ours, theirs, *rest in rows:
        fmt = lambda v: "" if v is None else f"{v:,.0f}"
        log_p = (" " + ("" if not rest or rest[0] is None else f"{rest[0]:.1f}") + " |") if with_log_p else ""
        lines.append(f"| {method} | {value:.3f} | {fmt(ours)} | {fmt(theirs)} |{log_p}")
    text = "\n".join(lines)
    print(text)
    return text
