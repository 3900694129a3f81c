#!/usr/bin/python3
"""Train a small DCGAN on scikit-learn's 8x8 digits and export its generator.

The 1797 bundled digits are upsampled to 16x16 (bilinear) and scaled to
[-1, 1]. The generator maps a standard-normal latent [64,1,1] to an image
through three transposed convolutions; only the generator is exported.

Writes, next to this file:
  generator.onnx  z [batch,64,1,1] -> image [batch,1,16,16]  (opset 17)
  manifest.json   how the edgegen runtime should use the graph
  reference/      inputs and PyTorch outputs (.npy, float32) for runtime tests

Re-run from the repository root (a few minutes on one CPU core):
  /usr/bin/python3 examples/digits_gan/train.py [--preview /tmp/gan.png]
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
OPSET = 17
LATENT = 64
EPOCHS = 40
BATCH = 32
SEED = 0
# One thread: the model is tiny, and with two OpenMP threads every op pays
# for synchronisation (up to 20x slower when the other core is busy).
THREADS = 1


def load_images() -> torch.Tensor:
    """All digits as a float tensor [N,1,16,16] with values in [-1, 1]."""
    digits = load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32)).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False)
    return x.clamp(0.0, 1.0) * 2.0 - 1.0


class Generator(nn.Module):
    def __init__(self, latent: int = LATENT):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent, 128, kernel_size=4, stride=1, padding=0),  # 1 -> 4
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1),  # 4 -> 8
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1),  # 8 -> 16
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    """Convolutional critic; spectral norm keeps it Lipschitz and training stable."""

    def __init__(self):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, 64, kernel_size=4, stride=2, padding=1)),  # 16 -> 8
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(64, 128, kernel_size=4, stride=2, padding=1)),  # 8 -> 4
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(128, 1, kernel_size=4, stride=1, padding=0)),  # 4 -> 1
            nn.Flatten(0),
        )

    def forward(self, x):
        return self.net(x)  # one score per image


def train(generator, discriminator, x):
    """Hinge-loss GAN training (more stable than the plain BCE loss here)."""
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(SEED)
    generator.train()
    discriminator.train()
    for epoch in range(1, EPOCHS + 1):
        totals = torch.zeros(2)
        for idx in torch.randperm(len(x), generator=gen).split(BATCH):
            real = x[idx]
            fake = generator(torch.randn(len(idx), LATENT, 1, 1))

            loss_d = (F.relu(1.0 - discriminator(real)).mean()
                      + F.relu(1.0 + discriminator(fake.detach())).mean())
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()

            loss_g = -discriminator(fake).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            totals += torch.tensor([loss_d.item(), loss_g.item()]) * len(idx)
        if epoch % 10 == 0 or epoch == 1:
            loss_d, loss_g = (totals / len(x)).tolist()
            print(f"epoch {epoch:4d}  loss_d {loss_d:6.3f}  loss_g {loss_g:6.3f}")


def save_npy(name, tensor):
    array = np.ascontiguousarray(tensor.detach().numpy(), dtype="<f4")
    np.save(HERE / "reference" / f"{name}.npy", array)


def save_preview(path, images):
    """Save [N,1,16,16] images in [-1, 1] as a grid, 8 per row, scaled up 4x."""
    from PIL import Image

    rows = images.shape[0] // 8
    cells = F.pad((images[: rows * 8, 0] + 1) / 2, (1, 1, 1, 1), value=0.25)  # grey border
    grid = cells.reshape(rows, 8, 18, 18).permute(0, 2, 1, 3).reshape(rows * 18, 8 * 18)
    pixels = (grid.clamp(0, 1) * 255).byte().numpy()
    image = Image.fromarray(pixels)
    image.resize((image.width * 4, image.height * 4), Image.NEAREST).save(path)
    print(f"wrote preview {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preview", metavar="PNG",
                        help="also save a grid of 64 generated samples (needs Pillow)")
    args = parser.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)

    x = load_images()
    generator, discriminator = Generator(), Discriminator()
    start = time.time()
    train(generator, discriminator, x)
    print(f"training took {time.time() - start:.1f} s")

    generator.eval()
    torch.onnx.export(
        generator,
        torch.zeros(1, LATENT, 1, 1),
        str(HERE / "generator.onnx"),
        opset_version=OPSET,
        input_names=["z"],
        output_names=["image"],
        dynamic_axes={"z": {0: "batch"}, "image": {0: "batch"}},
        do_constant_folding=True,
    )

    manifest = {
        "kind": "decoder",
        "graphs": {"decoder": "generator.onnx"},
        "latent_shape": [LATENT, 1, 1],
        "prior": "normal",
        "output_range": [-1, 1],
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    (HERE / "reference").mkdir(exist_ok=True)
    with torch.no_grad():
        z = torch.randn(4, LATENT, 1, 1, generator=torch.Generator().manual_seed(0))
        save_npy("z", z)
        save_npy("image", generator(z))
        if args.preview:
            save_preview(args.preview, generator(torch.randn(64, LATENT, 1, 1)))
    print(f"wrote {HERE.name}/generator.onnx, manifest.json, reference/")


if __name__ == "__main__":
    main()
