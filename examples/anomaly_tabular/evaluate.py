#!/usr/bin/python3
"""AUROC of the edgegen flow and Gaussian MADE on breast cancer (benign
normal, malignant anomalies; standardized features) beside scikit-learn's
IsolationForest, GaussianMixture and KernelDensity on the same split, and
rows/s of `edgegen score` vs PyTorch.

  /usr/bin/python3 examples/anomaly_tabular/evaluate.py [--edgegen build/edgegen]
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "anomaly_digits"))
sys.path.insert(0, str(HERE))

from anomaly_eval import (auroc, baselines, convert, edgegen_rows_per_second, edgegen_scores, print_table,  # noqa: E402
                          torch_rows_per_second)
import train  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgegen", default=str(HERE.parents[1] / "build" / "edgegen"))
    edgegen = parser.parse_args().edgegen
    split = dict(np.load(HERE / "split.npz"))
    normal, anomaly = split["test_normal"], split["test_anomaly"]
    state = torch.load(HERE / "models.pt")
    flow = train.RealNVP()
    flow.load_state_dict(state["flow"])
    made = train.GaussianMade()
    made.load_state_dict(state["made"])
    flow.eval(), made.eval()
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, manifest, model, log_prob in (
                ("edgegen flow (RealNVP, exact log p)", "flow_manifest.json", flow, train.flow_log_prob),
                ("edgegen MADE (gaussian, exact log p)", "made_manifest.json", made, train.made_log_prob)):
            egm = tmp / (manifest + ".egm")
            convert(edgegen, HERE / manifest, egm)
            s_n = edgegen_scores(edgegen, egm, normal)
            s_a = edgegen_scores(edgegen, egm, anomaly)
            table.append((name, auroc(-s_n, -s_a), edgegen_rows_per_second(edgegen, egm, normal),
                          torch_rows_per_second(lambda x, m=model, f=log_prob: f(m, x), normal)))
    for name, value in baselines(split["train"], normal, anomaly).items():
        table.append((name, value, None, None))
    text = print_table(f"breast cancer: train on {len(split['train'])} benign; test {len(normal)} held-out benign vs "
                       f"{len(anomaly)} malignant", table)
    (HERE / "results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
