#!/usr/bin/python3
"""Train a small RealNVP flow on scikit-learn's 8x8 digits 0-4 and export it.

RealNVP (Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP",
ICLR 2017): affine coupling layers y = m*x + (1-m)*(x*exp(s(m*x)) + t(m*x)),
log|det J| = sum((1-m)*s), with alternating checkerboard / half masks, and an
ActNorm (Kingma & Dhariwal, "Glow", 2018) scale-and-shift in front.

Data units: pixel intensities 0..16, dequantized (pixel + u, u ~ U[0,1)).
Declared preprocessing (done by the edgegen runtime, Jacobian included):
  y = x / 17, l = logit(alpha + (1 - 2 alpha) y), alpha = 0.05.
The ONNX graphs work on l:
  flow_forward.onnx   l [batch,64] -> z [batch,64], logdet [batch]
  flow_inverse.onnx   z [batch,64] -> l [batch,64]
The two graphs use the same weight tensors (stored once in the .egm).

Writes next to this file: the two ONNX graphs, flow_manifest.json, split.npz
(the normal/anomaly split shared by every model of this example) and
reference/flow_*.npy (inputs and PyTorch log p(x) in nats, data units).

  /usr/bin/python3 examples/anomaly_digits/train_flow.py   (about a minute, one core)
"""

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from common import HERE, load_split

OPSET = 13
SCALE = 17.0
ALPHA = 0.05
DIM = 64
HIDDEN = 128
COUPLINGS = 8
EPOCHS = 150
torch.set_num_threads(1)


def preprocess(x):
    """Data units -> logit space, and the log-Jacobian of that map per row."""
    y = x / SCALE
    s = ALPHA + (1 - 2 * ALPHA) * y
    l = torch.log(s) - torch.log1p(-s)
    log_jac = (math.log(1 - 2 * ALPHA) - math.log(SCALE) - torch.log(s) - torch.log1p(-s)).sum(1)
    return l, log_jac


def masks():
    out = []
    idx = torch.arange(DIM)
    checker = ((idx // 8 + idx % 8) % 2).float()
    half = (idx < DIM // 2).float()
    for k in range(COUPLINGS):
        base = checker if k % 4 < 2 else half
        out.append(base if k % 2 == 0 else 1 - base)
    return out


class Coupling(nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(nn.Linear(DIM, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                                 nn.Linear(HIDDEN, 2 * DIM))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.s_scale = nn.Parameter(torch.ones(DIM))

    def st(self, masked):
        h = self.net(masked)
        s, t = h[:, :DIM], h[:, DIM:]
        s = self.s_scale * torch.tanh(s) * (1 - self.mask)
        t = t * (1 - self.mask)
        return s, t

    def forward(self, x):
        masked = x * self.mask
        s, t = self.st(masked)
        return masked + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(1)

    def inverse(self, y):
        masked = y * self.mask
        s, t = self.st(masked)
        return masked + (1 - self.mask) * ((y - t) * torch.exp(-s))


class RealNVP(nn.Module):
    def __init__(self):
        super().__init__()
        self.act_loc = nn.Parameter(torch.zeros(DIM))
        self.act_logs = nn.Parameter(torch.zeros(DIM))
        self.layers = nn.ModuleList([Coupling(m) for m in masks()])

    def forward(self, l):
        x = (l + self.act_loc) * torch.exp(self.act_logs)
        logdet = self.act_logs.sum().expand(l.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z):
        x = z
        for layer in reversed(self.layers):
            x = layer.inverse(x)
        return x * torch.exp(-self.act_logs) - self.act_loc


class Inverse(nn.Module):
    def __init__(self, flow):
        super().__init__()
        self.flow = flow

    def forward(self, z):
        return self.flow.inverse(z)


def log_prob(flow, x):
    """log p(x) in nats, data units (preprocessing Jacobian included)."""
    l, log_jac = preprocess(x)
    z, logdet = flow(l)
    log_base = -0.5 * (z * z).sum(1) - 0.5 * DIM * math.log(2 * math.pi)
    return log_base + logdet + log_jac


def export(module, example, path, input_name, output_names):
    torch.onnx.export(module, example, str(path), input_names=[input_name], output_names=output_names,
                      opset_version=OPSET, dynamic_axes={n: {0: "batch"} for n in [input_name, *output_names]})


def main():
    torch.manual_seed(0)
    split = load_split()
    train = torch.from_numpy(split["train"])
    flow = RealNVP()
    with torch.no_grad():  # data-dependent ActNorm init
        l, _ = preprocess(train + torch.rand_like(train))
        flow.act_loc.copy_(-l.mean(0))
        flow.act_logs.copy_(-torch.log(l.std(0) + 1e-6))
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3, weight_decay=1e-5)
    for epoch in range(EPOCHS):
        perm = torch.randperm(train.shape[0])
        total = 0.0
        for i in range(0, train.shape[0], 64):
            xb = train[perm[i:i + 64]] + torch.rand(min(64, train.shape[0] - i), DIM)
            loss = -log_prob(flow, xb).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        if epoch % 25 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch}: nll {total / train.shape[0]:.2f} nats")
    flow.eval()
    torch.save(flow.state_dict(), HERE / "flow.pt")  # for evaluate.py's PyTorch timing
    example = torch.zeros(1, DIM)
    export(flow, example, HERE / "flow_forward.onnx", "l", ["z", "logdet"])
    export(Inverse(flow), example, HERE / "flow_inverse.onnx", "z", ["l"])
    manifest = {"kind": "flow", "graphs": {"forward": "flow_forward.onnx", "inverse": "flow_inverse.onnx"},
                "outputs": {"z": "z", "logdet": "logdet"}, "event_shape": [DIM], "base": "normal",
                "preprocess": {"dequantize_scale": SCALE, "logit_alpha": ALPHA}}
    (HERE / "flow_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    with torch.no_grad():
        x = torch.from_numpy(np.concatenate([split["test_normal"][:8], split["test_anomaly"][:8]]) + 0.5)
        lp = log_prob(flow, x)
        z = torch.randn(4, DIM, generator=torch.Generator().manual_seed(1))
        inv = flow.inverse(z)
    ref = HERE / "reference"
    ref.mkdir(exist_ok=True)
    np.save(ref / "flow_x.npy", x.numpy().astype(np.float32))
    np.save(ref / "flow_log_prob.npy", lp.numpy().astype(np.float32))
    np.save(ref / "flow_z.npy", z.numpy().astype(np.float32))
    np.save(ref / "flow_inverse_l.npy", inv.numpy().astype(np.float32))
    print("reference log p:", lp.numpy()[:4], "...")


if __name__ == "__main__":
    main()
