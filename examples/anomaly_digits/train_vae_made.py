#!/usr/bin/python3
"""Train the VAE and the MADE of examples/anomaly_digits on digits 0-4.

VAE (Kingma & Welling, "Auto-Encoding Variational Bayes", 2014): MLP
encoder x/16 [batch,64] -> mean, logvar [batch,8]; decoder z -> 64 Bernoulli
logits. Inputs are pixel intensities scaled to [0, 1] (x / 16).
  vae_encoder.onnx, vae_decoder.onnx, vae_manifest.json

MADE (Germain et al., "MADE: Masked Autoencoder for Distribution
Estimation", 2015): one pass gives the 17-way categorical conditionals
p(x_d | x_<d) of every pixel (values 0..16, natural order), so
log p(x) = sum_d log softmax(logits_d)[x_d] exactly.
  made.onnx   x [batch,64] (pixel values as floats) -> logits [batch,64,17]
  made_manifest.json

reference/: inputs, VAE encoder outputs / decoder logits, MADE logits and
log p(x) from PyTorch, for the runtime's exactness tests.

  /usr/bin/python3 examples/anomaly_digits/train_vae_made.py   (a few minutes, one core)
"""

import json

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from common import HERE, load_split

torch.set_num_threads(1)
OPSET = 13
DIM, LATENT, LEVELS = 64, 8, 17


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(DIM, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU())
        self.mean = nn.Linear(128, LATENT)
        self.logvar = nn.Linear(128, LATENT)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), self.logvar(h)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(LATENT, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, DIM))

    def forward(self, z):
        return self.body(z)


def train_vae(train):
    torch.manual_seed(0)
    enc, dec = Encoder(), Decoder()
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    x_all = train / 16.0
    for epoch in range(300):
        perm = torch.randperm(len(x_all))
        for i in range(0, len(x_all), 64):
            x = x_all[perm[i:i + 64]]
            mean, logvar = enc(x)
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
            rec = F.binary_cross_entropy_with_logits(dec(z), x, reduction="sum") / len(x)
            kl = -0.5 * torch.sum(1 + logvar - mean ** 2 - logvar.exp()) / len(x)
            loss = rec + kl
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 50 == 0:
            print(f"vae epoch {epoch}: -elbo {loss.item():.2f}")
    return enc.eval(), dec.eval()


class MaskedLinear(nn.Linear):
    def __init__(self, fan_in, fan_out, mask):
        super().__init__(fan_in, fan_out)
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class Made(nn.Module):
    def __init__(self, hidden=512):
        super().__init__()
        rng = np.random.RandomState(0)
        order = np.arange(DIM)
        m1 = rng.randint(0, DIM - 1, size=hidden)
        m2 = rng.randint(m1.min(), DIM - 1, size=hidden)
        mask1 = torch.from_numpy((m1[:, None] >= order[None, :]).astype(np.float32))
        mask2 = torch.from_numpy((m2[:, None] >= m1[None, :]).astype(np.float32))
        out_mask = (order[:, None] > m2[None, :]).astype(np.float32)  # output d sees hidden units < d
        mask3 = torch.from_numpy(np.repeat(out_mask, LEVELS, axis=0))
        self.l1 = MaskedLinear(DIM, hidden, mask1)
        self.l2 = MaskedLinear(hidden, hidden, mask2)
        self.l3 = MaskedLinear(hidden, DIM * LEVELS, mask3)

    def forward(self, x):
        h = F.relu(self.l1(x / 16.0))
        h = F.relu(self.l2(h))
        return self.l3(h).reshape(-1, DIM, LEVELS)


def made_log_prob(made, x):
    logits = made(x)
    return torch.gather(F.log_softmax(logits, -1), 2, x.long().unsqueeze(-1)).squeeze(-1).sum(1)


def train_made(train):
    torch.manual_seed(0)
    made = Made()
    opt = torch.optim.Adam(made.parameters(), lr=1e-3, weight_decay=1e-4)
    for epoch in range(60):
        perm = torch.randperm(len(train))
        for i in range(0, len(train), 64):
            x = train[perm[i:i + 64]]
            loss = -made_log_prob(made, x).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 10 == 0:
            print(f"made epoch {epoch}: nll {loss.item():.2f}")
    return made.eval()


class Frozen(nn.Module):
    """MADE with the masks multiplied into the weights (plain Gemm in ONNX)."""

    def __init__(self, made):
        super().__init__()
        self.layers = nn.ModuleList()
        for layer in (made.l1, made.l2, made.l3):
            plain = nn.Linear(layer.in_features, layer.out_features)
            plain.weight.data = layer.weight.data * layer.mask
            plain.bias.data = layer.bias.data.clone()
            self.layers.append(plain)

    def forward(self, x):
        h = F.relu(self.layers[0](x / 16.0))
        h = F.relu(self.layers[1](h))
        return self.layers[2](h).reshape(-1, DIM, LEVELS)


def export(module, example, path, input_name, output_names):
    torch.onnx.export(module, example, str(path), input_names=[input_name], output_names=output_names,
                      opset_version=OPSET, dynamic_axes={n: {0: "batch"} for n in [input_name, *output_names]})


def main():
    split = load_split()
    train = torch.from_numpy(split["train"])
    enc, dec = train_vae(train)
    made = train_made(train)
    export(enc, torch.zeros(1, DIM), HERE / "vae_encoder.onnx", "x", ["mean", "logvar"])
    export(dec, torch.zeros(1, LATENT), HERE / "vae_decoder.onnx", "z", ["logits"])
    (HERE / "vae_manifest.json").write_text(json.dumps({
        "kind": "vae", "graphs": {"encoder": "vae_encoder.onnx", "decoder": "vae_decoder.onnx"},
        "latent_shape": [LATENT], "likelihood": "bernoulli", "output_is_logits": True,
        "outputs": {"mean": "mean", "logvar": "logvar"}, "output_range": [0, 1]}, indent=2) + "\n")
    frozen = Frozen(made).eval()
    torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(), "made": {k: v for k, v in made.state_dict().items() if not k.endswith("mask")}}, HERE / "vae_made.pt")
    export(frozen, torch.zeros(1, DIM), HERE / "made.onnx", "x", ["logits"])
    (HERE / "made_manifest.json").write_text(json.dumps({
        "kind": "autoregressive", "graphs": {"conditionals": "made.onnx"}, "event_shape": [DIM],
        "distribution": "categorical", "categories": LEVELS}, indent=2) + "\n")
    ref = HERE / "reference"
    x = torch.from_numpy(np.concatenate([split["test_normal"][:8], split["test_anomaly"][:8]]))
    with torch.no_grad():
        mean, logvar = enc(x / 16.0)
        np.save(ref / "vae_x.npy", (x / 16.0).numpy())
        np.save(ref / "vae_mean.npy", mean.numpy())
        np.save(ref / "vae_logvar.npy", logvar.numpy())
        np.save(ref / "vae_logits_at_mean.npy", dec(mean).numpy())
        np.save(ref / "made_x.npy", x.numpy())
        np.save(ref / "made_logits.npy", frozen(x).numpy())
        np.save(ref / "made_log_prob.npy", made_log_prob(made, x).numpy())
        print("made log p:", made_log_prob(made, x).numpy()[:4])


if __name__ == "__main__":
    main()
