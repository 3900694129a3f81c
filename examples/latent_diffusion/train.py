#!/usr/bin/python3
"""Train a small latent diffusion model on letters rendered from Debian's fonts and export it.

Data: the 26 capital letters drawn with PIL in the 21 DejaVu faces that
Debian's fonts-dejavu-core / fonts-dejavu-extra ship (/usr/share/fonts/truetype/dejavu),
in one of four ink colours (red, green, blue, black) on a light paper tint,
at 64x64 RGB, with random size and position; scaled to [-1, 1].

Three networks, trained one after the other (as latent diffusion is):
  1. an autoencoder 64x64x3 -> 8x8x4 -> 64x64x3 (a VAE with a small KL term;
     the encoder's mean is the latent). The decoder is convolutions and SiLU
     only (no normalization), so every output pixel depends on a few latent
     pixels around it: decoding tile by tile with overlap matches decoding
     at once (edgegen's tiled decoding).
  2. a latent UNet (GroupNorm, SiLU, strided convolution, nearest upsampling,
     self-attention at 4x4, cross-attention to the context at 8x8 and 4x4)
     predicting the noise (epsilon) of latents scaled by latent_scale (1 /
     the latents' standard deviation, Stable Diffusion's 0.18215 for this
     autoencoder) under Stable Diffusion's scaled-linear schedule. It is
     conditioned on a "context" of 2 tokens x 32 numbers: the output of a toy
     text encoder (text_encoder.npz: one fixed random vector per letter and
     one per colour, see context.py). The context is replaced by zeros (the
     unconditional context) 10% of the time, for classifier-free guidance.
  3. a letter classifier used by quality.py to score samples.

Writes, next to this file:
  encoder.onnx      image [b,3,H,W] in [-1,1] -> latent mean [b,4,H/8,W/8]
  decoder.onnx      latent [b,4,h,w] -> image [b,3,8h,8w]
  unet.onnx         x_t [b,4,h,w], t [b] float32, context [b,2,32] -> eps [b,4,h,w]
  classifier.onnx   x [b,3,64,64] -> logits [b,26], features [b,64]
  text_encoder.npz  the toy text encoder's tables; uncond_context.npy the unconditional context
  manifest.json     the latent diffusion pipeline for the edgegen converter
  manifest_512.json the same for a 64x64 latent decoded to 512x512 in 16x16-latent tiles
  reference/        PyTorch inputs/outputs for the parity tests, pictures and a mask for img2img

(All ONNX graphs are exported with symbolic height and width, fixed at convert time.)
Re-run from the repository root (about 26 minutes: each network trains for a fixed
wall-clock budget, see AE_SECONDS / UNET_SECONDS):
  /usr/bin/python3 examples/latent_diffusion/train.py
"""

import glob
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from time_budget import require_openblas  # noqa: E402
OPSET = 17
SIZE = 64
LATENT_CHANNELS = 4
FACTOR = 8
TRAIN_STEPS = 1000
BETA_START, BETA_END = 0.00085, 0.012
LETTERS = [chr(ord("A") + i) for i in range(26)]
COLORS = {"red": (200, 30, 30), "green": (20, 140, 40), "blue": (30, 60, 210), "black": (25, 25, 25)}
TOKENS, CONTEXT_DIM = 2, 32
# Each network trains for a wall-clock budget (seconds) rather than a step
# count, so the script ends in bounded time on a loaded machine: the learning
# rate follows a warm-up + cosine curve over the budget. EG_SCALE=0.02 gives
# a quick smoke run of the whole script.
SCALE = float(os.environ.get("EG_SCALE", "1"))
AE_SECONDS = 600 * SCALE
UNET_SECONDS = 900 * SCALE
# EG_KEEP_CLASSIFIER=1 keeps an existing classifier.onnx (it only scores samples).
KEEP_CLASSIFIER = os.environ.get("EG_KEEP_CLASSIFIER") == "1" and (HERE / "classifier.onnx").exists()
SEED = 0
THREADS = int(os.environ.get("EG_THREADS", "2"))



def fonts():
    faces = sorted(glob.glob("/usr/share/fonts/truetype/dejavu/DejaVu*.ttf"))
    return [f for f in faces if "MathTeX" not in f]


def render(letter, font_path, color, rng):
    """One 64x64 RGB picture of `letter` in [-1, 1], CHW."""
    paper = tuple(int(v) for v in 255 - rng.integers(0, 30, 3))
    image = Image.new("RGB", (SIZE, SIZE), paper)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_path, int(rng.integers(38, 52)))
    left, top, right, bottom = draw.textbbox((0, 0), letter, font=font)
    x = (SIZE - (right - left)) / 2 - left + rng.integers(-5, 6)
    y = (SIZE - (bottom - top)) / 2 - top + rng.integers(-5, 6)
    draw.text((x, y), letter, font=font, fill=color)
    return np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1


def make_data(per_combination=2):
    rng = np.random.default_rng(SEED)
    pictures, letters, colors = [], [], []
    for font_path in fonts():
        for li, letter in enumerate(LETTERS):
            for ci, color in enumerate(COLORS.values()):
                for _ in range(per_combination):
                    pictures.append(render(letter, font_path, color, rng))
                    letters.append(li)
                    colors.append(ci)
    return (torch.from_numpy(np.stack(pictures)), torch.tensor(letters), torch.tensor(colors))


def text_encoder():
    """The toy text encoder: one fixed unit-scale vector per letter and per colour."""
    rng = np.random.default_rng(1234)
    return {"letters": rng.standard_normal((26, CONTEXT_DIM)).astype(np.float32),
            "colors": rng.standard_normal((len(COLORS), CONTEXT_DIM)).astype(np.float32)}


def contexts(table, letters, colors):
    return torch.from_numpy(np.stack([table["letters"][letters.numpy()], table["colors"][colors.numpy()]], axis=1))


# ---------------------------------------------------------------------------- autoencoder

class Residual(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.silu(self.conv1(F.silu(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.SiLU(),
            nn.Conv2d(16, 32, 4, stride=2, padding=1), nn.SiLU(),   # 32
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.SiLU(),   # 16
            nn.Conv2d(64, 64, 3, padding=1), nn.SiLU(),
            nn.Conv2d(64, 64, 4, stride=2, padding=1), nn.SiLU(),   # 8
            nn.Conv2d(64, 2 * LATENT_CHANNELS, 3, padding=1))

    def forward(self, x):
        mean, logvar = self.body(x).chunk(2, dim=1)
        return mean, logvar


class MeanOnly(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return self.encoder(x)[0]


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(LATENT_CHANNELS, 64, 3, padding=1), Residual(64),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(64, 64, 3, padding=1), Residual(64),  # 16
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(64, 32, 3, padding=1), nn.SiLU(),     # 32
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(32, 16, 3, padding=1), nn.SiLU(),     # 64
            nn.Conv2d(16, 3, 3, padding=1))

    def forward(self, z):
        return self.body(z)


class TimeBudget:
    """Warm-up then cosine decay of the learning rate over `seconds` of wall-clock time."""

    def __init__(self, opt, max_lr, seconds):
        self.opt, self.max_lr, self.seconds, self.start = opt, max_lr, seconds, time.time()

    def step(self):
        """Sets the learning rate for the next step; False when the budget is spent."""
        fraction = (time.time() - self.start) / self.seconds
        for group in self.opt.param_groups:
            group["lr"] = self.max_lr * min(1.0, 0.02 + fraction / 0.05) * 0.5 * (1 + math.cos(math.pi * min(fraction, 1)))
        return fraction < 1


def train_autoencoder(encoder, decoder, x):
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.0)
    budget = TimeBudget(opt, 2e-3, AE_SECONDS)
    gen = torch.Generator().manual_seed(SEED)
    start, running, step = time.time(), 0.0, 0
    while budget.step():
        step += 1
        # Random 32x32 crops (on the 8-pixel latent grid): both networks are
        # convolutional without normalization, so crops teach them as whole
        # pictures do, at a quarter of the cost.
        idx = torch.randint(0, len(x), (32,), generator=gen)
        top, left = (8 * int(v) for v in torch.randint(0, 5, (2,), generator=gen))
        batch = x[idx, :, top:top + 32, left:left + 32]
        mean, logvar = encoder(batch)
        logvar = logvar.clamp(-12, 4)
        z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=gen)
        recon = decoder(z)
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        loss = F.l1_loss(recon, batch) + F.mse_loss(recon, batch) + 1e-3 * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        running = 0.95 * running + 0.05 * loss.item()
        if step % 50 == 0 or step == 10:
            print(f"autoencoder step {step:5d}  loss {running:.4f}  {time.time() - start:.0f} s", flush=True)


# ---------------------------------------------------------------------------- latent UNet

def timestep_embedding(t, dim):
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


class SelfAttention(nn.Module):
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
        return x + self.out(torch.matmul(v, attn.transpose(1, 2)).reshape(b, c, h, w))


class CrossAttention(nn.Module):
    """Pixels (queries) attend to the context tokens (keys, values), as in Stable Diffusion's UNet."""

    def __init__(self, ch):
        super().__init__()
        self.norm = nn.GroupNorm(8, ch)
        self.q = nn.Conv2d(ch, ch, 1)
        self.k = nn.Linear(CONTEXT_DIM, ch)
        self.v = nn.Linear(CONTEXT_DIM, ch)
        self.out = nn.Conv2d(ch, ch, 1)
        self.scale = ch ** -0.5

    def forward(self, x, context):
        b, c, h, w = x.shape
        q = self.q(self.norm(x)).reshape(b, c, h * w)                 # [b, c, hw]
        k, v = self.k(context), self.v(context)                        # [b, T, c]
        attn = torch.softmax(torch.matmul(k, q) * self.scale, dim=1)   # [b, T, hw], over tokens
        return x + self.out(torch.matmul(v.transpose(1, 2), attn).reshape(b, c, h, w))


class UNet(nn.Module):
    def __init__(self, ch=40, emb=80):
        super().__init__()
        self.emb_dim = emb
        self.time = nn.Sequential(nn.Linear(emb, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.pooled = nn.Linear(TOKENS * CONTEXT_DIM, emb)
        self.inp = nn.Conv2d(LATENT_CHANNELS, ch, 3, padding=1)
        self.down1 = ResBlock(ch, ch, emb)
        self.cross1 = CrossAttention(ch)
        self.downsample = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.down2 = ResBlock(ch, 2 * ch, emb)
        self.mid = ResBlock(2 * ch, 2 * ch, emb)
        self.attn = SelfAttention(2 * ch)
        self.cross2 = CrossAttention(2 * ch)
        self.up2 = ResBlock(4 * ch, 2 * ch, emb)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.up1 = ResBlock(3 * ch, ch, emb)
        self.cross3 = CrossAttention(ch)
        self.norm = nn.GroupNorm(8, ch)
        self.outp = nn.Conv2d(ch, LATENT_CHANNELS, 3, padding=1)

    def forward(self, x, t, context):
        b = x.shape[0]
        e = self.time(timestep_embedding(t, self.emb_dim)) + self.pooled(context.reshape(b, TOKENS * CONTEXT_DIM))
        h1 = self.cross1(self.down1(self.inp(x), e), context)
        h2 = self.down2(self.downsample(h1), e)
        m = self.cross2(self.attn(self.mid(h2, e)), context)
        u2 = self.up2(torch.cat([m, h2], dim=1), e)
        u1 = self.cross3(self.up1(torch.cat([self.upsample(u2), h1], dim=1), e), context)
        return self.outp(F.silu(self.norm(u1)))


def scaled_linear_alphas_cumprod():
    betas = torch.linspace(BETA_START ** 0.5, BETA_END ** 0.5, TRAIN_STEPS, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def train_unet(unet, z, ctx):
    abar = scaled_linear_alphas_cumprod()
    opt = torch.optim.AdamW(unet.parameters(), lr=2e-3, weight_decay=0.0)
    budget = TimeBudget(opt, 2e-3, UNET_SECONDS)
    gen = torch.Generator().manual_seed(SEED)
    ema = {k: v.detach().clone() for k, v in unet.state_dict().items()}
    start, running, step = time.time(), 0.0, 0
    while budget.step():
        step += 1
        idx = torch.randint(0, len(z), (32,), generator=gen)
        z0, c = z[idx], ctx[idx].clone()
        c[torch.rand(32, generator=gen) < 0.1] = 0  # the unconditional context
        t = torch.randint(0, TRAIN_STEPS, (32,), generator=gen)
        noise = torch.randn(z0.shape, generator=gen)
        a = abar[t].view(-1, 1, 1, 1)
        loss = F.mse_loss(unet(a.sqrt() * z0 + (1 - a).sqrt() * noise, t.float(), c), noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for k, v in unet.state_dict().items():
                ema[k].mul_(0.995).add_(v.detach(), alpha=0.005) if v.dtype.is_floating_point else ema[k].copy_(v)
        running = 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0 or step == 10:
            print(f"unet step {step:5d}  loss {running:.4f}  {time.time() - start:.0f} s", flush=True)
    print(f"unet: {step} steps", flush=True)
    unet.load_state_dict(ema)


# ---------------------------------------------------------------------------- classifier

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 8
            nn.Flatten(), nn.Linear(64 * 64, 64), nn.ReLU())
        self.head = nn.Linear(64, 26)

    def forward(self, x):
        f = self.body(x)
        return self.head(f), f


def train_classifier(clf, x, y):
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(SEED + 1)
    perm = torch.randperm(len(x), generator=gen)
    held, used = perm[:400], perm[400:]
    for epoch in range(3):
        for idx in used[torch.randperm(len(used), generator=gen)].split(64):
            xb = x[idx] + 0.05 * torch.randn(x[idx].shape, generator=gen)
            loss = F.cross_entropy(clf(xb)[0], y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = (clf(x[held])[0].argmax(1) == y[held]).float().mean().item()
    print(f"classifier held-out accuracy {acc:.3f}", flush=True)


def export(module, args, name, inputs, outputs, axes):
    torch.onnx.export(module, args, str(HERE / name), opset_version=OPSET, input_names=inputs, output_names=outputs,
                      dynamic_axes=axes)


def write_manifest_512(manifest):
    """The same networks for a 64x64 latent (a 512x512 picture), the decoder converted for 16x16-latent tiles."""
    big = json.loads(json.dumps(manifest))
    del big["graphs"]["encoder"]  # it would read the whole 512x512 picture at once
    big["sample_shape"] = [LATENT_CHANNELS, 64, 64]
    big["dims"] = {"latent_height": 64, "latent_width": 64, "tile_height": 16, "tile_width": 16}
    big["tile_overlap"] = 4
    (HERE / "manifest_512.json").write_text(json.dumps(big, indent=2) + "\n")


def main():
    require_openblas()
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    begin = time.time()
    x, letters, colors = make_data()
    print(f"{len(x)} pictures from {len(fonts())} fonts ({time.time() - begin:.0f} s)", flush=True)
    table = text_encoder()
    np.savez(HERE / "text_encoder.npz", letters=table["letters"], colors=table["colors"],
             letter_names=np.array(LETTERS), color_names=np.array(list(COLORS)))
    np.save(HERE / "uncond_context.npy", np.zeros((1, TOKENS, CONTEXT_DIM), np.float32))

    clf = Classifier()
    if KEEP_CLASSIFIER:
        print("keeping classifier.onnx", flush=True)
    else:
        train_classifier(clf, x, letters)
    clf.eval()
    if not KEEP_CLASSIFIER:
        export(clf, x[:1], "classifier.onnx", ["x"], ["logits", "features"],
               {"x": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}})

    encoder, decoder = Encoder(), Decoder()
    print(f"autoencoder parameters: {sum(p.numel() for p in encoder.parameters())} + "
          f"{sum(p.numel() for p in decoder.parameters())}", flush=True)
    train_autoencoder(encoder, decoder, x)
    encoder.eval()
    decoder.eval()
    with torch.no_grad():
        z = torch.cat([encoder(chunk)[0] for chunk in x.split(256)])
        recon_error = F.mse_loss(decoder(z[:256]), x[:256]).item()
    latent_scale = float(1.0 / z.std())
    print(f"latent std {z.std():.4f} -> latent_scale {latent_scale:.5f}; reconstruction MSE {recon_error:.4f}", flush=True)
    image_axes = {0: "batch", 2: "image_height", 3: "image_width"}
    latent_axes = {0: "batch", 2: "tile_height", 3: "tile_width"}
    export(MeanOnly(encoder), x[:1], "encoder.onnx", ["image"], ["mean"],
           {"image": image_axes, "mean": {0: "batch", 2: "mean_height", 3: "mean_width"}})
    export(decoder, z[:1], "decoder.onnx", ["z"], ["image"],
           {"z": latent_axes, "image": {0: "batch", 2: "out_height", 3: "out_width"}})

    unet = UNet()
    print(f"unet parameters: {sum(p.numel() for p in unet.parameters())}", flush=True)
    ctx = contexts(table, letters, colors)
    train_unet(unet, z * latent_scale, ctx)
    unet.eval()
    example = (z[:1] * latent_scale, torch.tensor([500.0]), ctx[:1])
    export(unet, example, "unet.onnx", ["x_t", "t", "context"], ["eps"],
           {"x_t": {0: "batch", 2: "latent_height", 3: "latent_width"}, "t": {0: "batch"}, "context": {0: "batch"},
            "eps": {0: "batch", 2: "latent_height", 3: "latent_width"}})

    manifest = {
        "kind": "diffusion",
        "graphs": {"denoiser": "unet.onnx", "decoder": "decoder.onnx", "encoder": "encoder.onnx"},
        "inputs": {"sample": "x_t", "timestep": "t", "context": "context"},
        "unconditional_context": "uncond_context.npy",
        "latent_scale": round(latent_scale, 6),
        "schedule": {"type": "scaled_linear", "beta_start": BETA_START, "beta_end": BETA_END,
                     "train_steps": TRAIN_STEPS},
        "prediction": "epsilon",
        "sample_shape": [LATENT_CHANNELS, SIZE // FACTOR, SIZE // FACTOR],
        "output_range": [-1, 1],
        "dims": {"latent_height": SIZE // FACTOR, "latent_width": SIZE // FACTOR,
                 "tile_height": SIZE // FACTOR, "tile_width": SIZE // FACTOR,
                 "image_height": SIZE, "image_width": SIZE},
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    write_manifest_512(manifest)

    ref = HERE / "reference"
    ref.mkdir(exist_ok=True)
    gen = torch.Generator().manual_seed(1)
    pick = torch.tensor([0, 700, 1400, 2100])
    xt = torch.randn(4, LATENT_CHANNELS, 8, 8, generator=gen)
    t = torch.tensor([999.0, 500.0, 20.0, 0.0])
    c = ctx[pick].clone()
    c[2] = 0
    with torch.no_grad():
        eps = unet(xt, t, c)
        mean = encoder(x[pick])[0]
        decoded = decoder(mean)
    arrays = {"x_t": xt, "t": t, "context": c, "eps": eps, "pictures": x[pick], "mean": mean, "decoded": decoded}
    for name, value in arrays.items():
        np.save(ref / f"{name}.npy", value.numpy().astype("<f4"))
    picture = ((x[pick[0]].numpy().transpose(1, 2, 0) + 1) * 127.5).clip(0, 255).round().astype(np.uint8)
    Image.fromarray(picture).save(ref / "picture.png")
    mask = np.full((SIZE, SIZE), 255, np.uint8)
    mask[:, SIZE // 2:] = 0  # keep the left half, generate the right half
    Image.fromarray(mask).save(ref / "mask_right_half.png")
    print(f"letters of the reference pictures: {[LETTERS[i] for i in letters[pick]]}, "
          f"colours: {[list(COLORS)[i] for i in colors[pick]]}")
    print(f"wrote encoder/decoder/unet/classifier.onnx, manifest.json, reference/ in {time.time() - begin:.0f} s")


if __name__ == "__main__":
    main()
