#!/usr/bin/python3
"""Stable-Diffusion-1.5-shaped UNet and VAE decoder with random weights, as ONNX with external data.

Nothing is downloaded: the layers are written here from the published
configuration of SD 1.5 (diffusers' UNet2DConditionModel and AutoencoderKL
config of runwayml/stable-diffusion-v1-5), with the same module structure,
layer sizes and parameter counts (UNet 859.52M, VAE decoder 49.49M with its
post-quant conv), and random weights from a fixed seed:

  UNet: block_out_channels 320/640/1280/1280, 2 resnets per down block and
  3 per up block, cross-attention transformers in the first three down
  blocks, the mid block and the last three up blocks (8 heads, context
  [1, 77, 768], GEGLU feed-forward), GroupNorm(32, eps 1e-5 in resnets,
  1e-6 in transformers), SiLU, sinusoidal timestep embedding (flip sin to
  cos) -> Linear 320->1280 -> SiLU -> Linear 1280->1280.
  VAE decoder: latent 4 channels scaled by 1/0.18215, post-quant 1x1 conv,
  conv_in 4->512, mid block resnet/attention(1 head)/resnet, up blocks
  512/512/256/128 with 3 resnets each and nearest 2x upsampling + 3x3 conv
  in the first three, GroupNorm(32, eps 1e-6), SiLU, conv_out 128->3.

  /usr/bin/python3 bench/make_sd15.py OUT_DIR [--latent 64] [--only unet|vae]

writes OUT_DIR/unet_L.onnx (inputs sample [1,4,L,L], timestep [1],
encoder_hidden_states [1,77,768]; output [1,4,L,L]) and OUT_DIR/vae_decoder_L.onnx
(latent [1,4,L,L] -> image [1,3,8L,8L]), OUT_DIR/vae_decoder_tiles.onnx (the
same decoder, latent height and width symbolic, for tiled decoding), each with its weights in one
external data file beside it (unet_L.onnx.data: 3.44 GB), plus the inputs
as .npy files (OUT_DIR/inputs_L/). Latent 64 is the 512x512 picture; 32
(256x256) runs quicker with the same weights. Files newer than this script
are kept.
"""

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SEED = 1234
OPSET = 17


# --- UNet2DConditionModel (SD 1.5) ------------------------------------------------------------


def timestep_embedding(timesteps, dim=320):
    """diffusers Timesteps(320, flip_sin_to_cos=True, downscale_freq_shift=0)."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32) / half
    emb = timesteps[:, None].float() * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(emb), torch.sin(emb)], dim=-1)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb=1280, eps=1e-5):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout) if temb else None
        self.norm2 = nn.GroupNorm(32, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Attention(nn.Module):
    def __init__(self, dim, heads, context_dim=None, bias=False):
        super().__init__()
        self.heads = heads
        context_dim = context_dim or dim
        self.to_q = nn.Linear(dim, dim, bias=bias)
        self.to_k = nn.Linear(context_dim, dim, bias=bias)
        self.to_v = nn.Linear(context_dim, dim, bias=bias)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x, context=None):
        context = x if context is None else context
        b, n, c = x.shape
        d = c // self.heads
        q = self.to_q(x).reshape(b, n, self.heads, d).transpose(1, 2)
        k = self.to_k(context).reshape(b, context.shape[1], self.heads, d).transpose(1, 2)
        v = self.to_v(context).reshape(b, context.shape[1], self.heads, d).transpose(1, 2)
        weights = torch.softmax(q @ k.transpose(-1, -2) * (d**-0.5), dim=-1)
        return self.to_out((weights @ v).transpose(1, 2).reshape(b, n, c))


class GegluFeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim * 8)  # GEGLU: value and gate, 4*dim each
        self.out = nn.Linear(dim * 4, dim)

    def forward(self, x):
        value, gate = self.proj(x).chunk(2, dim=-1)
        return self.out(value * F.gelu(gate))


class TransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = GegluFeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer2D(nn.Module):
    """diffusers Transformer2DModel with use_linear_projection=False (SD 1.5: 1x1 conv projections)."""

    def __init__(self, channels, heads=8, context_dim=768):
        super().__init__()
        self.norm = nn.GroupNorm(32, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.block = TransformerBlock(channels, heads, context_dim)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        y = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(b, h * w, c)
        y = self.block(y, context)
        return self.proj_out(y.reshape(b, h, w, c).permute(0, 3, 1, 2)) + x


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, cin, cout, attention, downsample):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(cin, cout), ResnetBlock(cout, cout)])
        self.attentions = nn.ModuleList([Transformer2D(cout), Transformer2D(cout)]) if attention else None
        self.downsampler = Downsample(cout) if downsample else None

    def forward(self, x, temb, context):
        skips = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
            skips.append(x)
        if self.downsampler is not None:
            x = self.downsampler(x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    def __init__(self, cin, prev, cout, attention, upsample):
        super().__init__()
        resnets = []
        for j in range(3):
            skip = cin if j == 2 else cout
            resnets.append(ResnetBlock((prev if j == 0 else cout) + skip, cout))
        self.resnets = nn.ModuleList(resnets)
        self.attentions = nn.ModuleList([Transformer2D(cout) for _ in range(3)]) if attention else None
        self.upsampler = Upsample(cout) if upsample else None

    def forward(self, x, skips, temb, context):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
        if self.upsampler is not None:
            x = self.upsampler(x)
        return x


class Sd15Unet(nn.Module):
    def __init__(self, channels=(320, 640, 1280, 1280)):
        super().__init__()
        self.conv_in = nn.Conv2d(4, channels[0], 3, padding=1)
        self.time_linear_1 = nn.Linear(channels[0], 1280)
        self.time_linear_2 = nn.Linear(1280, 1280)
        self.down_blocks = nn.ModuleList()
        cout = channels[0]
        for i, c in enumerate(channels):
            cin, cout = cout, c
            last = i == len(channels) - 1
            self.down_blocks.append(DownBlock(cin, cout, attention=not last, downsample=not last))
        self.mid_resnet_1 = ResnetBlock(channels[-1], channels[-1])
        self.mid_attention = Transformer2D(channels[-1])
        self.mid_resnet_2 = ResnetBlock(channels[-1], channels[-1])
        self.up_blocks = nn.ModuleList()
        reversed_channels = list(reversed(channels))
        cout = reversed_channels[0]
        for i, c in enumerate(reversed_channels):
            prev, cout = cout, c
            cin = reversed_channels[min(i + 1, len(channels) - 1)]
            last = i == len(channels) - 1
            self.up_blocks.append(UpBlock(cin, prev, cout, attention=i > 0, upsample=not last))
        self.norm_out = nn.GroupNorm(32, channels[0], eps=1e-5)
        self.conv_out = nn.Conv2d(channels[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        temb = self.time_linear_2(F.silu(self.time_linear_1(timestep_embedding(timestep))))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, block_skips = block(x, temb, encoder_hidden_states)
            skips += block_skips
        x = self.mid_resnet_2(self.mid_attention(self.mid_resnet_1(x, temb), encoder_hidden_states), temb)
        for block in self.up_blocks:
            x = block(x, skips, temb, encoder_hidden_states)
        return self.conv_out(F.silu(self.norm_out(x)))


# --- AutoencoderKL decoder (SD 1.5) -----------------------------------------------------------


class VaeAttention(nn.Module):
    """The VAE mid block's single-head self-attention over the pixels (diffusers Attention, 1 head)."""

    def __init__(self, channels):
        super().__init__()
        self.group_norm = nn.GroupNorm(32, channels, eps=1e-6)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.Linear(channels, channels)

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        q, k, v = self.to_q(y), self.to_k(y), self.to_v(y)
        weights = torch.softmax(q @ k.transpose(-1, -2) * (c**-0.5), dim=-1)
        y = self.to_out(weights @ v)
        return y.transpose(1, 2).reshape(b, c, h, w) + x


class Sd15VaeDecoder(nn.Module):
    SCALING_FACTOR = 0.18215

    def __init__(self, channels=(128, 256, 512, 512)):
        super().__init__()
        top = channels[-1]
        self.post_quant_conv = nn.Conv2d(4, 4, 1)
        self.conv_in = nn.Conv2d(4, top, 3, padding=1)
        self.mid_resnet_1 = ResnetBlock(top, top, temb=0, eps=1e-6)
        self.mid_attention = VaeAttention(top)
        self.mid_resnet_2 = ResnetBlock(top, top, temb=0, eps=1e-6)
        blocks = []
        cout = top
        reversed_channels = list(reversed(channels))
        for i, c in enumerate(reversed_channels):
            prev, cout = cout, c
            layers = [ResnetBlock(prev if j == 0 else cout, cout, temb=0, eps=1e-6) for j in range(3)]
            if i < len(channels) - 1:
                layers.append(Upsample(cout))
            blocks.append(nn.ModuleList(layers))
        self.up_blocks = nn.ModuleList(blocks)
        self.norm_out = nn.GroupNorm(32, channels[0], eps=1e-6)
        self.conv_out = nn.Conv2d(channels[0], 3, 3, padding=1)

    def forward(self, latent):
        x = self.conv_in(self.post_quant_conv(latent / self.SCALING_FACTOR))
        x = self.mid_resnet_2(self.mid_attention(self.mid_resnet_1(x)))
        for block in self.up_blocks:
            for layer in block:
                x = layer(x)
        return self.conv_out(F.silu(self.norm_out(x)))


# --- export -----------------------------------------------------------------------------------


def randomize(module):
    """Random weights of the trained model's scale: N(0, 1/fan_in) for weights, small biases,
    GroupNorm/LayerNorm scales around 1, so activations stay finite through 25 resnets."""
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(fan_in))
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.02 * torch.randn(p.shape, generator=generator))


def export(module, args, input_names, output_names, path, dynamic_axes=None):
    """torch.onnx.export writes one file per initializer past 2 GB; re-save as one .onnx.data file."""
    path = Path(path)
    tmp = path.parent / (path.stem + ".export")
    tmp.mkdir(exist_ok=True)
    torch.onnx.export(module, args, str(tmp / path.name), input_names=input_names, output_names=output_names,
                      opset_version=OPSET, do_constant_folding=True, dynamic_axes=dynamic_axes)
    import onnx  # Debian's python3-onnx

    model = onnx.load(str(tmp / path.name), load_external_data=True)
    for stale in (path, path.with_name(path.name + ".data")):
        stale.unlink(missing_ok=True)
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=path.name + ".data", size_threshold=1024)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


def fresh(path):
    return path.exists() and path.stat().st_mtime > Path(__file__).stat().st_mtime


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--latent", type=int, default=64, help="latent side (64: 512x512 pictures)")
    parser.add_argument("--only", choices=["unet", "vae"])
    parser.add_argument("--reference", action="store_true", help="also write PyTorch's outputs as .npy")
    args = parser.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    L = args.latent
    inputs = out / f"inputs_{L}"
    inputs.mkdir(exist_ok=True)
    generator = torch.Generator().manual_seed(SEED + 1)
    sample = torch.randn(1, 4, L, L, generator=generator)
    timestep = torch.tensor([981.0])
    context = torch.randn(1, 77, 768, generator=generator)
    np.save(inputs / "sample.npy", sample.numpy())
    np.save(inputs / "timestep.npy", timestep.numpy())
    np.save(inputs / "encoder_hidden_states.npy", context.numpy())
    np.save(inputs / "latent.npy", (sample * Sd15VaeDecoder.SCALING_FACTOR).numpy())

    if args.only in (None, "unet"):
        path = out / f"unet_{L}.onnx"
        if not fresh(path):
            unet = Sd15Unet().eval()
            randomize(unet)
            count = sum(p.numel() for p in unet.parameters())
            print(f"UNet: {count / 1e6:.2f}M parameters", flush=True)
            with torch.no_grad():
                export(unet, (sample, timestep, context), ["sample", "timestep", "encoder_hidden_states"],
                       ["noise_pred"], path)
                if args.reference:
                    np.save(inputs / "unet_reference.npy", unet(sample, timestep, context).numpy())
            del unet
        print(f"wrote {path}", flush=True)
    if args.only in (None, "vae"):
        path = out / f"vae_decoder_{L}.onnx"
        if not fresh(path):
            vae = Sd15VaeDecoder().eval()
            randomize(vae)
            count = sum(p.numel() for p in vae.parameters())
            print(f"VAE decoder: {count / 1e6:.2f}M parameters", flush=True)
            latent = sample * Sd15VaeDecoder.SCALING_FACTOR
            with torch.no_grad():
                export(vae, (latent,), ["latent"], ["image"], path)
                if args.reference:
                    np.save(inputs / "vae_reference.npy", vae(latent).numpy())
        print(f"wrote {path}", flush=True)
        # The same decoder with the latent's height and width symbolic: a
        # pipeline converts it for latent tiles (edgegen convert --tile N).
        path = out / "vae_decoder_tiles.onnx"
        if not fresh(path):
            vae = Sd15VaeDecoder().eval()
            randomize(vae)
            with torch.no_grad():
                export(vae, (sample * Sd15VaeDecoder.SCALING_FACTOR,), ["latent"], ["image"], path,
                       {"latent": {2: "latent_height", 3: "latent_width"},
                        "image": {2: "image_height", 3: "image_width"}})
        print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
