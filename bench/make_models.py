#!/usr/bin/python3
"""Standard generative-model shapes for bench/run.sh, as PyTorch modules and ONNX files.

Every model is built with random weights from a fixed seed, so the ONNX file
written here and the module bench/torch_bench.py rebuilds with build(name)
hold identical weights. Normalization layers get random statistics too, so
that folding them (as the converter and ONNX Runtime do) is actually tested.

  /usr/bin/python3 bench/make_models.py OUT_DIR [NAME ...]   # default: every model

writes OUT_DIR/NAME.onnx (batch 1, static shapes, opset 17) and skips files
that are already newer than this script.
"""

import math
import sys
from pathlib import Path

import torch
from torch import nn

SEED = 1234
OPSET = 17


class DcganGenerator(nn.Module):
    """DCGAN generator (Radford et al. 2015) for 32x32 RGB: z [1, 100, 1, 1] -> [1, 3, 32, 32]."""

    def __init__(self, latent=100, width=64):
        super().__init__()

        def up(cin, cout, stride, padding):
            return [nn.ConvTranspose2d(cin, cout, 4, stride, padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.net = nn.Sequential(
            *up(latent, width * 4, 1, 0),  # 1 -> 4
            *up(width * 4, width * 2, 2, 1),  # 4 -> 8
            *up(width * 2, width, 2, 1),  # 8 -> 16
            nn.ConvTranspose2d(width, 3, 4, 2, 1),  # 16 -> 32
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z)


class ConvVaeDecoder(nn.Module):
    """Convolutional VAE decoder for 64x64 RGB: z [1, 128] -> [1, 3, 64, 64]."""

    def __init__(self, latent=128, width=32):
        super().__init__()
        self.width = width
        self.project = nn.Sequential(nn.Linear(latent, width * 8 * 4 * 4), nn.ReLU())

        def up(cin, cout):
            return [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU()]

        self.body = nn.Sequential(
            *up(width * 8, width * 4),  # 4 -> 8
            *up(width * 4, width * 2),  # 8 -> 16
            *up(width * 2, width),  # 16 -> 32
            nn.ConvTranspose2d(width, 3, 4, 2, 1),  # 32 -> 64
            nn.Sigmoid(),
        )

    def forward(self, z):
        return self.body(self.project(z).view(-1, self.width * 8, 4, 4))


class Coupling(nn.Module):
    """Affine coupling layer (Dinh et al., RealNVP), sampling direction, as plain element-wise ops:
    x = mask * z + (1 - mask) * (z - t(mask * z)) * exp(-s(mask * z)),  s = scale * tanh(.)."""

    def __init__(self, dim, hidden, mask):
        super().__init__()
        self.register_buffer("mask", mask)
        self.trunk = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.s = nn.Linear(hidden, dim)
        self.t = nn.Linear(hidden, dim)
        self.scale = nn.Parameter(torch.full((dim,), 0.5))

    def forward(self, z):
        fixed = z * self.mask
        h = self.trunk(fixed)
        s = self.scale * torch.tanh(self.s(h))
        t = self.t(h)
        return fixed + (1 - self.mask) * ((z - t) * torch.exp(-s))


class RealNvpMlp(nn.Module):
    """RealNVP-style flow on 8x8 = 64 values, 6 coupling layers: z [1, 64] -> x [1, 64]."""

    def __init__(self, dim=64, hidden=256, layers=6):
        super().__init__()
        checker = (torch.arange(dim) % 2).float()
        self.layers = nn.ModuleList(Coupling(dim, hidden, checker if i % 2 else 1 - checker) for i in range(layers))

    def forward(self, z):
        for layer in self.layers:
            z = layer(z)
        return z


class Vocoder1d(nn.Module):
    """MelGAN-style vocoder generator without residual stacks: mel [1, 80, 32] -> audio [1, 1, 8192]
    through ConvTranspose1d upsampling x8, x8, x2, x2."""

    def __init__(self, mels=80, width=256):
        super().__init__()
        layers = [nn.Conv1d(mels, width, 7, padding=3), nn.LeakyReLU(0.2)]
        channels = width
        for stride in (8, 8, 2, 2):
            layers += [
                nn.ConvTranspose1d(channels, channels // 2, 2 * stride, stride, stride // 2),
                nn.LeakyReLU(0.2),
            ]
            channels //= 2
        layers += [nn.Conv1d(channels, 1, 7, padding=3), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, mel):
        return self.net(mel)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, embed):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.embed = nn.Linear(embed, cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(torch.nn.functional.silu(self.norm1(x)))
        h = h + self.embed(emb)[:, :, None, None]
        h = self.conv2(torch.nn.functional.silu(self.norm2(h)))
        return h + self.skip(x)


class SelfAttention(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.norm = nn.GroupNorm(8, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, c, h * w).unbind(1)
        attention = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), dim=-1)  # [n, hw, hw]
        y = (v @ attention.transpose(1, 2)).reshape(n, c, h, w)
        return x + self.out(y)


class TinyUnet(nn.Module):
    """DDPM-style denoiser: x [1, 3, 32, 32], t [1] -> noise [1, 3, 32, 32]; attention at 8x8."""

    def __init__(self, width=32, embed=128):
        super().__init__()
        self.embed_dim = embed
        self.time = nn.Sequential(nn.Linear(embed, embed), nn.SiLU(), nn.Linear(embed, embed))
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.down1 = ResBlock(width, width, embed)
        self.pool1 = nn.Conv2d(width, width, 3, stride=2, padding=1)  # 32 -> 16
        self.down2 = ResBlock(width, 2 * width, embed)
        self.pool2 = nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1)  # 16 -> 8
        self.mid = ResBlock(2 * width, 2 * width, embed)
        self.attention = SelfAttention(2 * width)
        self.up2 = ResBlock(4 * width, 2 * width, embed)
        self.up1 = ResBlock(3 * width, width, embed)
        self.head = nn.Sequential(nn.GroupNorm(8, width), nn.SiLU(), nn.Conv2d(width, 3, 3, padding=1))

    def timestep_features(self, t):
        half = self.embed_dim // 2
        frequencies = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        angles = t[:, None] * frequencies[None, :]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)

    def forward(self, x, t):
        emb = self.time(self.timestep_features(t))
        h1 = self.down1(self.stem(x), emb)  # 32x32
        h2 = self.down2(self.pool1(h1), emb)  # 16x16
        h = self.attention(self.mid(self.pool2(h2), emb))  # 8x8
        h = nn.functional.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.up2(torch.cat([h, h2], dim=1), emb)  # 16x16
        h = nn.functional.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.up1(torch.cat([h, h1], dim=1), emb)  # 32x32
        return self.head(h)


# name -> (constructor, {input name: shape}, [output names])
MODELS = {
    "dcgan32": (DcganGenerator, {"z": [1, 100, 1, 1]}, ["image"]),
    "vae64_decoder": (ConvVaeDecoder, {"z": [1, 128]}, ["image"]),
    "realnvp_mlp": (RealNvpMlp, {"z": [1, 64]}, ["x"]),
    "vocoder1d": (Vocoder1d, {"mel": [1, 80, 32]}, ["audio"]),
    "unet_attention": (TinyUnet, {"x": [1, 3, 32, 32], "t": [1]}, ["noise"]),
}


def randomize_normalization(module, generator):
    """Non-trivial statistics and affine parameters for every BatchNorm/GroupNorm."""
    for layer in module.modules():
        if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            layer.running_mean.copy_(0.1 * torch.randn(layer.num_features, generator=generator))
            layer.running_var.copy_(0.5 + torch.rand(layer.num_features, generator=generator))
        if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)) and layer.affine:
            layer.weight.copy_(1 + 0.1 * torch.randn(layer.weight.shape, generator=generator))
            layer.bias.copy_(0.1 * torch.randn(layer.bias.shape, generator=generator))


def build(name):
    """The module `name` with its seeded weights, in eval mode, and its input shapes and output names."""
    constructor, inputs, outputs = MODELS[name]
    torch.manual_seed(SEED)
    module = constructor()
    with torch.no_grad():
        randomize_normalization(module, torch.Generator().manual_seed(SEED))
    return module.eval(), inputs, outputs


def export(name, path):
    module, inputs, outputs = build(name)
    example = tuple(torch.randn(shape) for shape in inputs.values())
    if name == "unet_attention":  # a timestep, not a normal sample
        example = (example[0], torch.tensor([10.0]))
    torch.onnx.export(
        module,
        example,
        str(path),
        opset_version=OPSET,
        input_names=list(inputs),
        output_names=outputs,
        do_constant_folding=True,
    )


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = Path(sys.argv[1])
    names = sys.argv[2:] or list(MODELS)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    script_time = Path(__file__).stat().st_mtime
    for name in names:
        path = out_dir / f"{name}.onnx"
        if path.exists() and path.stat().st_mtime > script_time:
            continue
        export(name, path)
        print(f"make_models: wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
