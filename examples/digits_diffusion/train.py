#!/usr/bin/python3
"""Train a small class-conditional diffusion UNet on scikit-learn's digits and export it.

The 1797 bundled 8x8 digits are upsampled to 16x16 (bilinear) and scaled to
[-1, 1]. The denoiser is a two-level UNet (GroupNorm, SiLU, strided
convolution, nearest upsampling, Concat skips) with one self-attention block
at 8x8, a sinusoidal timestep embedding (Exp/Sin/Cos) and a class embedding
with an 11th "null" class for classifier-free guidance (labels are dropped to
the null class 10% of the time during training, Ho & Salimans 2022). It
predicts the noise (epsilon) under the linear DDPM schedule (Ho et al. 2020:
beta 1e-4 .. 0.02 over 1000 steps).

Also trains a small digit classifier used by quality.py to score samples
(class accuracy and a Fréchet distance of its penultimate features).

Writes, next to this file:
  unet.onnx        x_t [b,1,16,16], t [b] float32, y [b] int64 -> eps [b,1,16,16] (opset 17)
  classifier.onnx  x [b,1,16,16] in [-1,1] -> logits [b,10], features [b,64]       (opset 17)
  manifest.json    the diffusion pipeline for the edgegen converter
  reference/       PyTorch inputs/outputs (.npy, float32/int64) for parity tests

Re-run from the repository root (about 10 minutes on one shared CPU core; the UNet is ~0.2 s per step):
  /usr/bin/python3 examples/digits_diffusion/train.py
"""

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

HERE = Path(__file__).resolve().parent
OPSET = 17
TRAIN_STEPS = 1000
NUM_CLASSES = 10
NULL_CLASS = 10
# Optimizer steps; EG_STEPS=100 gives a quick smoke run of the whole script.
STEPS = int(os.environ.get("EG_STEPS", "2000"))
BATCH = 64
SEED = 0
THREADS = 1


def load_data():
    digits = load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32)).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False).clamp(0, 1)
    return x * 2 - 1, torch.from_numpy(digits.target.astype(np.int64))


def timestep_embedding(t, dim):
    """Sinusoidal embedding of (float) timesteps, as in the DDPM / Transformer papers."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(e)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class Attention(nn.Module):
    """Single-head self-attention over the pixels of a feature map."""

    def __init__(self, ch):
        super().__init__()
        self.norm = nn.GroupNorm(8, ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.out = nn.Conv2d(ch, ch, 1)
        self.scale = ch ** -0.5

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        attn = torch.softmax(torch.matmul(q.transpose(1, 2), k) * self.scale, dim=-1)  # [b, hw, hw]
        out = torch.matmul(v, attn.transpose(1, 2)).reshape(b, c, h, w)
        return x + self.out(out)


class UNet(nn.Module):
    def __init__(self, ch=32, emb=64):
        super().__init__()
        self.emb_dim = emb
        self.time = nn.Sequential(nn.Linear(emb, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.label = nn.Embedding(NUM_CLASSES + 1, emb)
        self.inp = nn.Conv2d(1, ch, 3, padding=1)
        self.down1 = ResBlock(ch, ch, emb)                       # 16x16
        self.downsample = nn.Conv2d(ch, ch, 3, stride=2, padding=1)  # -> 8x8
        self.down2 = ResBlock(ch, 2 * ch, emb)
        self.mid = ResBlock(2 * ch, 2 * ch, emb)
        self.attn = Attention(2 * ch)
        self.up2 = ResBlock(4 * ch, 2 * ch, emb)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")  # -> 16x16
        self.up1 = ResBlock(3 * ch, ch, emb)
        self.norm = nn.GroupNorm(8, ch)
        self.outp = nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, x, t, y):
        e = self.time(timestep_embedding(t, self.emb_dim)) + self.label(y)
        h1 = self.down1(self.inp(x), e)
        h2 = self.down2(self.downsample(h1), e)
        m = self.attn(self.mid(h2, e))
        u2 = self.up2(torch.cat([m, h2], dim=1), e)
        u1 = self.up1(torch.cat([self.upsample(u2), h1], dim=1), e)
        return self.outp(F.silu(self.norm(u1)))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 8x8
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 4x4
            nn.Flatten(), nn.Linear(64 * 16, 64), nn.ReLU())
        self.head = nn.Linear(64, NUM_CLASSES)

    def forward(self, x):
        f = self.body(x)
        return self.head(f), f


def linear_alphas_cumprod():
    betas = torch.linspace(1e-4, 0.02, TRAIN_STEPS, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).float()


def train_unet(unet, x, y):
    abar = linear_alphas_cumprod()
    opt = torch.optim.AdamW(unet.parameters(), lr=2e-3, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=STEPS, pct_start=0.05)
    gen = torch.Generator().manual_seed(SEED)
    ema = {k: v.detach().clone() for k, v in unet.state_dict().items()}
    start, running = time.time(), 0.0
    for step in range(1, STEPS + 1):
        idx = torch.randint(0, len(x), (BATCH,), generator=gen)
        x0, label = x[idx], y[idx].clone()
        label[torch.rand(BATCH, generator=gen) < 0.1] = NULL_CLASS
        t = torch.randint(0, TRAIN_STEPS, (BATCH,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        a = abar[t].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = F.mse_loss(unet(xt, t.float(), label), noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            for k, v in unet.state_dict().items():
                ema[k].mul_(0.995).add_(v.detach(), alpha=0.005) if v.dtype.is_floating_point else ema[k].copy_(v)
        running = 0.98 * running + 0.02 * loss.item()
        if step % 500 == 0 or step == 100:
            print(f"unet step {step:5d}  loss {running:.4f}  {time.time() - start:.0f} s", flush=True)
    unet.load_state_dict(ema)


def train_classifier(clf, x, y):
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(SEED + 1)
    perm = torch.randperm(len(x), generator=gen)
    held, used = perm[:300], perm[300:]
    for epoch in range(15):
        for idx in used[torch.randperm(len(used), generator=gen)].split(64):
            xb = x[idx] + 0.05 * torch.randn(x[idx].shape, generator=gen)
            loss = F.cross_entropy(clf(xb)[0], y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = (clf(x[held])[0].argmax(1) == y[held]).float().mean().item()
    print(f"classifier held-out accuracy {acc:.3f}")


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    x, y = load_data()

    clf = Classifier()
    train_classifier(clf, x, y)
    clf.eval()
    torch.onnx.export(clf, x[:1], str(HERE / "classifier.onnx"), opset_version=OPSET, input_names=["x"],
                      output_names=["logits", "features"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}})

    unet = UNet()
    print(f"unet parameters: {sum(p.numel() for p in unet.parameters())}")
    train_unet(unet, x, y)
    unet.eval()
    example = (x[:1], torch.tensor([500.0]), torch.tensor([3]))
    torch.onnx.export(unet, example, str(HERE / "unet.onnx"), opset_version=OPSET,
                      input_names=["x_t", "t", "y"], output_names=["eps"],
                      dynamic_axes={"x_t": {0: "batch"}, "t": {0: "batch"}, "y": {0: "batch"}, "eps": {0: "batch"}})

    manifest = {
        "kind": "diffusion",
        "graphs": {"denoiser": "unet.onnx"},
        "inputs": {"sample": "x_t", "timestep": "t", "class": "y"},
        "schedule": {"type": "linear", "beta_start": 0.0001, "beta_end": 0.02, "train_steps": TRAIN_STEPS},
        "prediction": "epsilon",
        "sample_shape": [1, 16, 16],
        "output_range": [-1, 1],
        "num_classes": NUM_CLASSES,
        "null_class": NULL_CLASS,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    ref = HERE / "reference"
    ref.mkdir(exist_ok=True)
    gen = torch.Generator().manual_seed(1)
    xt = torch.randn(4, 1, 16, 16, generator=gen)
    t = torch.tensor([999.0, 500.0, 20.0, 0.0])
    yy = torch.tensor([7, 3, 10, 0])
    with torch.no_grad():
        eps = unet(xt, t, yy)
        logits, feats = clf(x[:4])
    np.save(ref / "x_t.npy", xt.numpy().astype("<f4"))
    np.save(ref / "t.npy", t.numpy().astype("<f4"))
    np.save(ref / "y.npy", yy.numpy().astype("<i8"))
    np.save(ref / "eps.npy", eps.numpy().astype("<f4"))
    np.save(ref / "digits.npy", x[:4].numpy().astype("<f4"))
    np.save(ref / "logits.npy", logits.numpy().astype("<f4"))
    np.save(ref / "features.npy", feats.numpy().astype("<f4"))
    print("wrote unet.onnx, classifier.onnx, manifest.json, reference/")


if __name__ == "__main__":
    main()
