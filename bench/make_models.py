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


class MelFrontend(nn.Module):
    """Audio front end over raw samples (issue 12's slow corners): a strided
    filter bank as Conv1d(1, 160, kernel 400, stride 160) = 25 ms windows
    every 10 ms at 16 kHz, then log power. [1, 1, 16000] -> [1, 160, 98]."""

    def __init__(self):
        super().__init__()
        self.filters = nn.Conv1d(1, 160, 400, stride=160, bias=False)

    def forward(self, audio):
        return torch.log(self.filters(audio) ** 2 + 1e-6)


def conv_bn_act(cin, cout, kernel=3, stride=1, groups=1, act=nn.Hardswish):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), act())


class SqueezeExcite(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x):
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * nn.functional.hardsigmoid(self.expand(torch.relu(self.reduce(s))))


class InvertedResidual(nn.Module):
    def __init__(self, cin, expand, cout, kernel, stride, se):
        super().__init__()
        self.body = nn.Sequential(conv_bn_act(cin, expand, 1), conv_bn_act(expand, expand, kernel, stride, expand),
                                  SqueezeExcite(expand) if se else nn.Identity(),
                                  nn.Conv2d(expand, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetFpnDetector(nn.Module):
    """A PP-OCR/DBNet-style text detector (issue 12's slow corners):
    MobileNetV3-like backbone (Hardswish, squeeze-excitation), a feature
    pyramid (nearest upsampling + lateral adds, concat) and a DB head with two
    stride-2 transposed convolutions down to one channel.
    [1, 3, 320, 320] -> [1, 1, 320, 320] probabilities."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn_act(3, 16, 3, 2)
        config = [(16, 64, 24, 3, 2, False), (24, 72, 24, 3, 1, False), (24, 72, 40, 5, 2, True),
                  (40, 120, 40, 5, 1, True), (40, 240, 80, 3, 2, False), (80, 200, 80, 3, 1, False),
                  (80, 480, 112, 3, 1, True), (112, 672, 160, 5, 2, True)]
        self.blocks = nn.ModuleList(InvertedResidual(*c) for c in config)
        self.taps = (1, 3, 6, 7)
        self.lateral = nn.ModuleList(nn.Conv2d(c, 96, 1, bias=False) for c in (24, 40, 112, 160))
        self.smooth = nn.ModuleList(nn.Conv2d(96, 24, 3, padding=1, bias=False) for _ in range(4))
        self.head = nn.Sequential(conv_bn_act(96, 24, 3, act=nn.ReLU), nn.ConvTranspose2d(24, 24, 2, 2),
                                  nn.BatchNorm2d(24), nn.ReLU(), nn.ConvTranspose2d(24, 1, 2, 2), nn.Sigmoid())

    def forward(self, x):
        x = self.stem(x)
        features = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                features.append(x)
        p = [lateral(f) for lateral, f in zip(self.lateral, features)]
        for i in (3, 2, 1):
            p[i - 1] = p[i - 1] + nn.functional.interpolate(p[i], size=p[i - 1].shape[-2:], mode="nearest")
        out = [smooth(q) for smooth, q in zip(self.smooth, p)]
        size = out[0].shape[-2:]
        fused = torch.cat([out[0]] + [nn.functional.interpolate(o, size=size, mode="nearest") for o in out[1:]], 1)
        return self.head(fused)


class CrnnRecognizer(nn.Module):
    """CRNN text-line recognizer (Shi et al. 2015; issue 12's recurrent
    corner): a small VGG-style conv stack turns a 32x160 grayscale line into
    40 columns of 256 features, a 2-layer bidirectional LSTM of 256 reads
    them, a linear layer gives CTC logits over 37 symbols.
    [1, 1, 32, 160] -> [40, 1, 37]."""

    def __init__(self, classes=37, hidden=256):
        super().__init__()

        def block(cin, cout, pool):
            return [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(pool)]

        self.features = nn.Sequential(*block(1, 64, 2), *block(64, 128, 2), *block(128, 256, (2, 1)),
                                      *block(256, 256, (4, 1)))  # 32x160 -> 1x40
        self.rnn = nn.LSTM(256, hidden, num_layers=2, bidirectional=True)
        self.classify = nn.Linear(2 * hidden, classes)

    def forward(self, image):
        columns = self.features(image).squeeze(2).permute(2, 0, 1)  # [40, 1, 256]
        return self.classify(self.rnn(columns)[0])


class KeywordSpotterGru(nn.Module):
    """Keyword spotter over one second of 40 MFCCs every 20 ms: GRU 64 ->
    GRU 128 -> linear over 12 keywords at the last frame.
    [1, 49, 40] -> [1, 12]."""

    def __init__(self, features=40, keywords=12):
        super().__init__()
        self.gru1 = nn.GRU(features, 64, batch_first=True)
        self.gru2 = nn.GRU(64, 128, batch_first=True)
        self.classify = nn.Linear(128, keywords)

    def forward(self, mfcc):
        return self.classify(self.gru2(self.gru1(mfcc)[0])[0][:, -1])


class Lstm100(nn.Module):
    """One LSTM layer, 128 inputs -> 256 hidden, over 100 steps (the
    measurement issue 12 started from). [100, 1, 128] -> [100, 1, 256]."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(128, 256)

    def forward(self, x):
        return self.lstm(x)[0]


class StreamingVadGru(nn.Module):
    """A voice-activity detector called once per 10 ms frame with its state
    carried: 40 features -> GRU 64, one step -> speech probability, and the
    new state. x [1, 1, 40], h0 [1, 1, 64] -> p [1, 1, 1], h [1, 1, 64]."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(40, 64)
        self.head = nn.Linear(64, 1)

    def forward(self, x, h0):
        y, h = self.gru(x, h0)
        return torch.sigmoid(self.head(y)), h


class ConformerBlock(nn.Module):
    """One conformer layer of a streaming speech recognizer (Gulati et al. 2020,
    small): 80 log-mel features over 100 frames -> 144 channels, multi-head
    self-attention (4 heads of 36), a convolution module (pointwise, GLU, a
    depthwise Conv1d of 15 taps, BatchNorm, SiLU, pointwise), a feed-forward
    half-step, then log-probabilities over 32 tokens. [1, 100, 80] -> [1, 100, 32]."""

    def __init__(self, features=80, d=144, heads=4, tokens=32):
        super().__init__()
        self.inp = nn.Linear(features, d)
        self.ln1 = nn.LayerNorm(d)
        self.attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.pointwise1 = nn.Conv1d(d, 2 * d, 1)
        self.depthwise = nn.Conv1d(d, d, 15, padding=7, groups=d)
        self.norm = nn.BatchNorm1d(d)
        self.pointwise2 = nn.Conv1d(d, d, 1)
        self.ln3 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, 4 * d)
        self.ff2 = nn.Linear(4 * d, d)
        self.out = nn.Linear(d, tokens)

    def forward(self, features):
        x = self.inp(features)
        y = self.ln1(x)
        x = x + self.attention(y, y, y, need_weights=False)[0]
        y = self.ln2(x).transpose(1, 2)
        y = nn.functional.glu(self.pointwise1(y), dim=1)
        y = self.pointwise2(nn.functional.silu(self.norm(self.depthwise(y)))).transpose(1, 2)
        x = x + y
        x = x + 0.5 * self.ff2(nn.functional.silu(self.ff1(self.ln3(x))))
        return torch.log_softmax(self.out(x), -1)


# name -> (constructor, {input name: shape}, [output names])
MODELS = {
    "dcgan32": (DcganGenerator, {"z": [1, 100, 1, 1]}, ["image"]),
    "vae64_decoder": (ConvVaeDecoder, {"z": [1, 128]}, ["image"]),
    "realnvp_mlp": (RealNvpMlp, {"z": [1, 64]}, ["x"]),
    "vocoder1d": (Vocoder1d, {"mel": [1, 80, 32]}, ["audio"]),
    "unet_attention": (TinyUnet, {"x": [1, 3, 32, 32], "t": [1]}, ["noise"]),
    "mel_frontend": (MelFrontend, {"audio": [1, 1, 16000]}, ["log_power"]),
    "mobilenet_fpn_detector": (MobileNetFpnDetector, {"x": [1, 3, 320, 320]}, ["probability"]),
    "crnn_recognizer": (CrnnRecognizer, {"image": [1, 1, 32, 160]}, ["logits"]),
    "kws_gru": (KeywordSpotterGru, {"mfcc": [1, 49, 40]}, ["scores"]),
    "lstm128_256x100": (Lstm100, {"x": [100, 1, 128]}, ["y"]),
    "vad_gru_step": (StreamingVadGru, {"x": [1, 1, 40], "h0": [1, 1, 64]}, ["p", "h"]),
    "conformer_block": (ConformerBlock, {"features": [1, 100, 80]}, ["log_probs"]),
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
