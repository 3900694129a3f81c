#!/usr/bin/python3
"""Train a small convolutional VAE on scikit-learn's 8x8 digits and export it.

The 1797 bundled digits are upsampled to 16x16 (bilinear) and scaled to [0, 1].
The model has an 8-dimensional latent space and a Bernoulli likelihood: the
decoder outputs per-pixel probabilities.

Writes, next to this file:
  encoder.onnx   x [batch,1,16,16] -> mean [batch,8], logvar [batch,8]  (opset 13)
  decoder.onnx   z [batch,8] -> x_hat [batch,1,16,16]                     (opset 13)
  manifest.json  how the edgegen runtime should wire the two graphs
  reference/     inputs and PyTorch outputs (.npy, float32) for runtime tests

Re-run from the repository root (one to two minutes on one CPU core):
  /usr/bin/python3 examples/digits_vae/train.py [--preview /tmp/vae.png]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

HERE = Path(__file__).resolve().parent
OPSET = 13
LATENT = 8
EPOCHS = 80
BATCH = 64
SEED = 0
# One thread: the model is tiny, and with two OpenMP threads every op pays
# for synchronisation (up to 20x slower when the other core is busy).
THREADS = 1


def load_images() -> torch.Tensor:
    """All digits as a float tensor [N,1,16,16] with values in [0, 1]."""
    digits = load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32)).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False)
    return x.clamp(0.0, 1.0)


class Encoder(nn.Module):
    def __init__(self, latent: int = LATENT):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=4, stride=2, padding=1),  # 16 -> 8
            nn.BatchNorm2d(32),
            nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, kernel_size=4, stride=2, padding=1),  # 8 -> 4
            nn.BatchNorm2d(64),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.mean = nn.Linear(64 * 4 * 4, latent)
        self.logvar = nn.Linear(64 * 4 * 4, latent)

    def forward(self, x):
        h = self.features(x)
        return self.mean(h), self.logvar(h)


class Decoder(nn.Module):
    def __init__(self, latent: int = LATENT):
        super().__init__()
        self.project = nn.Sequential(nn.Linear(latent, 64 * 4 * 4), nn.ReLU())
        self.body = nn.Sequential(
            nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1),  # 4 -> 8
            nn.GroupNorm(4, 32),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),  # 8 -> 16
            nn.Conv2d(32, 16, kernel_size=3, padding=1),
            nn.GroupNorm(4, 16),
            nn.ReLU(),
            nn.Conv2d(16, 1, kernel_size=3, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, z):
        h = self.project(z).view(-1, 64, 4, 4)
        return self.body(h)


def elbo_loss(x, x_hat, mean, logvar):
    """Negative ELBO per example: summed BCE plus KL(q(z|x) || N(0, I))."""
    bce = F.binary_cross_entropy(x_hat, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mean.pow(2) - logvar.exp())
    return (bce + kl) / x.shape[0], bce / x.shape[0], kl / x.shape[0]


def train(encoder, decoder, x):
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.Adam(params, lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
    gen = torch.Generator().manual_seed(SEED)
    encoder.train()
    decoder.train()
    for epoch in range(1, EPOCHS + 1):
        totals = torch.zeros(3)
        for idx in torch.randperm(len(x), generator=gen).split(BATCH):
            batch = x[idx]
            mean, logvar = encoder(batch)
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
            loss, bce, kl = elbo_loss(batch, decoder(z), mean, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()
            totals += torch.tensor([loss.item(), bce.item(), kl.item()]) * len(idx)
        sched.step()
        if epoch % 10 == 0 or epoch == 1:
            loss, bce, kl = (totals / len(x)).tolist()
            print(f"epoch {epoch:4d}  -elbo {loss:7.2f}  bce {bce:7.2f}  kl {kl:6.2f}")


def export(module, example, path, input_name, output_names):
    module.eval()
    dynamic = {name: {0: "batch"} for name in [input_name, *output_names]}
    torch.onnx.export(
        module,
        example,
        str(path),
        opset_version=OPSET,
        input_names=[input_name],
        output_names=output_names,
        dynamic_axes=dynamic,
        do_constant_folding=True,
    )


def save_npy(name, tensor):
    array = np.ascontiguousarray(tensor.detach().numpy(), dtype="<f4")
    np.save(HERE / "reference" / f"{name}.npy", array)


def save_preview(path, images):
    """Save [N,1,16,16] images in [0, 1] as a grid, 8 per row, scaled up 4x."""
    from PIL import Image

    rows = images.shape[0] // 8
    cells = F.pad(images[: rows * 8, 0], (1, 1, 1, 1), value=0.25)  # grey border
    grid = cells.reshape(rows, 8, 18, 18).permute(0, 2, 1, 3).reshape(rows * 18, 8 * 18)
    pixels = (grid.clamp(0, 1) * 255).byte().numpy()
    image = Image.fromarray(pixels)
    image.resize((image.width * 4, image.height * 4), Image.NEAREST).save(path)
    print(f"wrote preview {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preview", metavar="PNG",
                        help="also save a grid of 64 decoded prior samples (needs Pillow)")
    args = parser.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)

    x = load_images()
    encoder, decoder = Encoder(), Decoder()
    start = time.time()
    train(encoder, decoder, x)
    print(f"training took {time.time() - start:.1f} s")

    encoder.eval()
    decoder.eval()
    export(encoder, x[:1], HERE / "encoder.onnx", "x", ["mean", "logvar"])
    export(decoder, torch.zeros(1, LATENT), HERE / "decoder.onnx", "z", ["x_hat"])

    manifest = {
        "kind": "vae",
        "graphs": {"encoder": "encoder.onnx", "decoder": "decoder.onnx"},
        "latent_shape": [LATENT],
        "likelihood": "bernoulli",
        "outputs": {"mean": "mean", "logvar": "logvar"},
        "output_range": [0, 1],
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    (HERE / "reference").mkdir(exist_ok=True)
    with torch.no_grad():
        x_ref = x[:4]  # the digits 0, 1, 2, 3
        mean, logvar = encoder(x_ref)
        z = torch.randn(4, LATENT, generator=torch.Generator().manual_seed(0))
        x_hat = decoder(z)
    # pair: two real digits (0 and 3) for the demo's interpolation strip.
    for name, tensor in [("x", x_ref), ("mean", mean), ("logvar", logvar),
                         ("z", z), ("x_hat", x_hat), ("pair", x_ref[[0, 3]])]:
        save_npy(name, tensor)
    if args.preview:
        with torch.no_grad():
            save_preview(args.preview, decoder(torch.randn(64, LATENT)))
    print(f"wrote {HERE.name}/encoder.onnx, decoder.onnx, manifest.json, reference/")


if __name__ == "__main__":
    main()
