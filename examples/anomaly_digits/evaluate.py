#!/usr/bin/python3
"""AUROC of the edgegen flow, VAE and MADE on digits (0-4 normal, 5-9
anomalies), in float32 and quantized to int8, beside scikit-learn's IsolationForest, GaussianMixture and
KernelDensity on the same split, and rows/s of `edgegen score` vs PyTorch.

  /usr/bin/python3 examples/anomaly_digits/evaluate.py [--edgegen build/edgegen]

Writes the table to results.md next to this file.
"""

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from anomaly_eval import (auroc, baselines, convert, edgegen_rows_per_second, edgegen_scores, print_table,
                          torch_rows_per_second)
from common import HERE, load_split
import train_flow
import train_vae_made

IWAE_K = 16
# int8 rows: calibrated on the training split (--calibration), same test rows.
INT8 = ", int8"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgegen", default=str(HERE.parents[1] / "build" / "edgegen"))
    edgegen = parser.parse_args().edgegen
    split = load_split()
    normal, anomaly = split["test_normal"], split["test_anomaly"]
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train = split["train"]
        # Flow: data units are dequantized pixels; score the cell centres.
        flow = train_flow.RealNVP()
        flow.load_state_dict(torch.load(HERE / "flow.pt"))
        flow.eval()
        for int8 in (False, True):
            egm = tmp / ("flow_int8.egm" if int8 else "flow.egm")
            convert(edgegen, HERE / "flow_manifest.json", egm, calibration=train + 0.5 if int8 else None)
            s_n = edgegen_scores(edgegen, egm, normal + 0.5)
            s_a = edgegen_scores(edgegen, egm, anomaly + 0.5)
            table.append((f"edgegen flow (RealNVP, exact log p){INT8 if int8 else ''}", auroc(-s_n, -s_a),
                          edgegen_rows_per_second(edgegen, egm, normal + 0.5),
                          None if int8 else torch_rows_per_second(lambda x: train_flow.log_prob(flow, x), normal + 0.5),
                          s_n.mean()))

        state = torch.load(HERE / "vae_made.pt")
        enc, dec = train_vae_made.Encoder(), train_vae_made.Decoder()
        enc.load_state_dict(state["encoder"])
        dec.load_state_dict(state["decoder"])
        enc.eval(), dec.eval()

        def torch_iwae(x):
            mean, logvar = enc(x)
            eps = torch.randn(IWAE_K, *mean.shape)
            z = mean + torch.exp(0.5 * logvar) * eps
            logits = dec(z.reshape(-1, mean.shape[1])).reshape(IWAE_K, x.shape[0], -1)
            ll = (x * logits - torch.nn.functional.softplus(logits)).sum(-1)
            log_w = ll + (-0.5 * z * z + 0.5 * eps * eps + 0.5 * logvar).sum(-1)
            return torch.logsumexp(log_w, 0) - math.log(IWAE_K)

        args = ("-k", str(IWAE_K))
        for int8 in (False, True):
            egm = tmp / ("vae_int8.egm" if int8 else "vae.egm")
            convert(edgegen, HERE / "vae_manifest.json", egm, calibration=train / 16 if int8 else None)
            s_n = edgegen_scores(edgegen, egm, normal / 16, args)
            s_a = edgegen_scores(edgegen, egm, anomaly / 16, args)
            table.append((f"edgegen VAE (IWAE bound, k={IWAE_K}){INT8 if int8 else ''}", auroc(-s_n, -s_a),
                          edgegen_rows_per_second(edgegen, egm, normal / 16, args),
                          None if int8 else torch_rows_per_second(torch_iwae, normal / 16), s_n.mean()))

        made = train_vae_made.Made()
        made.load_state_dict(state["made"], strict=False)  # the masks are rebuilt from the seed
        made.eval()
        for int8 in (False, True):
            egm = tmp / ("made_int8.egm" if int8 else "made.egm")
            convert(edgegen, HERE / "made_manifest.json", egm, calibration=train if int8 else None)
            s_n = edgegen_scores(edgegen, egm, normal)
            s_a = edgegen_scores(edgegen, egm, anomaly)
            table.append((f"edgegen MADE (categorical, exact log p){INT8 if int8 else ''}", auroc(-s_n, -s_a),
                          edgegen_rows_per_second(edgegen, egm, normal),
                          None if int8 else torch_rows_per_second(lambda x: train_vae_made.made_log_prob(made, x),
                                                                  normal),
                          s_n.mean()))
    for name, value in baselines(split["train"], normal, anomaly).items():
        table.append((name, value, None, None))
    text = print_table(f"digits: train on {len(split['train'])} digits 0-4; test {len(normal)} held-out 0-4 vs "
                       f"{len(anomaly)} digits 5-9", table)
    (HERE / "results.md").write_text(text + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
