#!/usr/bin/python3
"""Density models for tabular anomaly detection on scikit-learn's breast
cancer data (569 rows, 30 features): benign tumours are "normal" (70% train,
30% held out), malignant ones the anomalies. Features are standardized with
the training rows' mean and standard deviation (stored in split.npz; the
models score standardized rows).

  flow: RealNVP (Dinh et al. 2017) with half-mask affine couplings, no preprocessing
        flow_forward.onnx  x [batch,30] -> z [batch,30], logdet [batch];  flow_inverse.onnx
  made: Gaussian MADE (Germain et al. 2015; Papamakarios et al. "Masked
        Autoregressive Flow", 2017): per dimension a mean and a log std
        made.onnx  x [batch,30] -> params [batch,60] (30 means, then 30 log stds)

  /usr/bin/python3 examples/anomaly_tabular/train.py   (about a minute on one core)
"""

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from torch import nn

HERE = Path(__file__).resolve().parent
DIM = 30
torch.set_num_threads(1)


def load_split():
    data = load_breast_cancer()
    x, y = data.data.astype(np.float64), data.target  # target 1 = benign
    rng = np.random.RandomState(0)
    benign = np.where(y == 1)[0]
    rng.shuffle(benign)
    cut = int(0.7 * len(benign))
    train = x[benign[:cut]]
    mean, std = train.mean(0), train.std(0) + 1e-8
    f = lambda a: ((a - mean) / std).astype(np.float32)
    return {"train": f(train), "test_normal": f(x[benign[cut:]]), "test_anomaly": f(x[y == 0])}


class Coupling(nn.Module):
    def __init__(self, mask, hidden=64):
        super().__init__()
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(nn.Linear(DIM, hidden), nn.ReLU(), nn.Linear(hidden, 2 * DIM))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def st(self, masked):
        h = self.net(masked)
        return torch.tanh(h[:, :DIM]) * (1 - self.mask), h[:, DIM:] * (1 - self.mask)

    def forward(self, x):
        masked = x * self.mask
        s, t = self.st(masked)
        return masked + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(1)

    def inverse(self, y):
        masked = y * self.mask
        s, t = self.st(masked)
        return masked + (1 - self.mask) * ((y - t) * torch.exp(-s))


class RealNVP(nn.Module):
    def __init__(self, layers=6):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        masks = []
        for k in range(layers):
            if k % 2 == 0:
                m = (torch.rand(DIM, generator=g) < 0.5).float()
            masks.append(m if k % 2 == 0 else 1 - m)
        self.layers = nn.ModuleList([Coupling(m) for m in masks])

    def forward(self, x):
        logdet = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


class Inverse(nn.Module):
    def __init__(self, flow):
        super().__init__()
        self.flow = flow

    def forward(self, z):
        return self.flow.inverse(z)


def flow_log_prob(flow, x):
    z, logdet = flow(x)
    return -0.5 * (z * z).sum(1) - 0.5 * DIM * math.log(2 * math.pi) + logdet


class GaussianMade(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        rng = np.random.RandomState(0)
        order = np.arange(DIM)
        m1 = rng.randint(0, DIM - 1, size=hidden)
        mask1 = (m1[:, None] >= order[None, :]).astype(np.float32)
        out = (order[:, None] > m1[None, :]).astype(np.float32)
        self.l1 = nn.Linear(DIM, hidden)
        self.l2 = nn.Linear(hidden, 2 * DIM)
        self.register_buffer("mask1", torch.from_numpy(mask1))
        self.register_buffer("mask2", torch.from_numpy(np.concatenate([out, out])))

    def forward(self, x):
        h = F.relu(F.linear(x, self.l1.weight * self.mask1, self.l1.bias))
        p = F.linear(h, self.l2.weight * self.mask2, self.l2.bias)
        return torch.cat([p[:, :DIM], torch.clamp(p[:, DIM:], -5, 3)], 1)


def made_log_prob(made, x):
    p = made(x)
    mean, log_std = p[:, :DIM], p[:, DIM:]
    u = (x - mean) * torch.exp(-log_std)
    return (-0.5 * u * u - log_std - 0.5 * math.log(2 * math.pi)).sum(1)


def fit(model, log_prob, train, epochs, lr=1e-3):
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    for epoch in range(epochs):
        perm = torch.randperm(len(train))
        for i in range(0, len(train), 32):
            xb = train[perm[i:i + 32]] + 0.05 * torch.randn(min(32, len(train) - i), DIM)  # light noise: regularizes
            loss = -log_prob(model, xb).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    print(type(model).__name__, "train nll", -log_prob(model, train).mean().item())
    return model.eval()


def export(module, path, input_name, output_names):
    torch.onnx.export(module, torch.zeros(1, DIM), str(path), input_names=[input_name], output_names=output_names,
                      opset_version=13, dynamic_axes={n: {0: "batch"} for n in [input_name, *output_names]})


def main():
    split = load_split()
    np.savez(HERE / "split.npz", **split)
    train = torch.from_numpy(split["train"])
    torch.manual_seed(0)
    flow = fit(RealNVP(), flow_log_prob, train, 200)
    torch.manual_seed(0)
    made = fit(GaussianMade(), made_log_prob, train, 200)
    torch.save({"flow": flow.state_dict(), "made": made.state_dict()}, HERE / "models.pt")
    export(flow, HERE / "flow_forward.onnx", "x", ["z", "logdet"])
    export(Inverse(flow), HERE / "flow_inverse.onnx", "z", ["x"])
    export(made, HERE / "made.onnx", "x", ["params"])
    (HERE / "flow_manifest.json").write_text(json.dumps({
        "kind": "flow", "graphs": {"forward": "flow_forward.onnx", "inverse": "flow_inverse.onnx"},
        "outputs": {"z": "z", "logdet": "logdet"}, "event_shape": [DIM], "base": "normal"}, indent=2) + "\n")
    (HERE / "made_manifest.json").write_text(json.dumps({
        "kind": "autoregressive", "graphs": {"conditionals": "made.onnx"}, "event_shape": [DIM],
        "distribution": "gaussian"}, indent=2) + "\n")
    ref = HERE / "reference"
    ref.mkdir(exist_ok=True)
    x = torch.from_numpy(np.concatenate([split["test_normal"][:8], split["test_anomaly"][:8]]))
    with torch.no_grad():
        np.save(ref / "x.npy", x.numpy())
        np.save(ref / "flow_log_prob.npy", flow_log_prob(flow, x).numpy())
        np.save(ref / "made_log_prob.npy", made_log_prob(made, x).numpy())


if __name__ == "__main__":
    main()
