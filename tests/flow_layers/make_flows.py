#!/usr/bin/python3
"""Three small flows built from the layers the density pipelines must support,
briefly trained on scikit-learn's 8x8 digits and exported for
tests/flow_layers_test.cc (no PyTorch at test time).

  glow/    Glow (Kingma & Dhariwal 2018) on the 1x8x8 image: squeeze
           (space-to-depth 8x8x1 -> 4x4x4 as reshape/transpose), ActNorm,
           invertible 1x1 convolution, affine and additive couplings with
           small conv nets, unsqueeze back. event_shape [1, 8, 8].
  maf/     MAF (Papamakarios et al. 2017): two masked autoregressive layers
           (MADE masks) giving shift and log-scale. The forward is one pass
           per layer; the inverse is sequential, one pass per dimension,
           unrolled in the ONNX graph (64 passes per layer, one copy of the
           weights). event_shape [64].
  spline/  Neural spline flow (Durkan et al. 2019): rational-quadratic spline
           couplings, K = 8 bins on [-B, B] with linear (identity) tails;
           searchsorted is a sum of comparisons against the knots, each
           input's bin parameters come from GatherElements, the interval mask
           is (x >= -B) & (x <= B). event_shape [64].

Every flow works in the logit space of train_flow.py's preprocessing, declared
in its manifest and applied by the runtime (Jacobian included):
  y = x / 17, l = logit(alpha + (1 - 2 alpha) y), alpha = 0.05.
Per flow: forward.onnx  l -> z, logdet;  inverse.onnx  z -> l;  manifest.json;
reference/x.npy (16 dequantized digits, data units), reference/log_prob.npy
(PyTorch log p(x) in nats, data units), reference/z.npy (4 latents) and
reference/inverse_l.npy (PyTorch's inverse of them, logit space).

  /usr/bin/python3 tests/flow_layers/make_flows.py     (about 20 s, one core)
"""

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

HERE = Path(__file__).resolve().parent
OPSET = 13
SCALE = 17.0
ALPHA = 0.05
DIM = 64
STEPS = 300
torch.set_num_threads(1)


def preprocess(x):
    """Data units -> logit space, and the log-Jacobian of that map per row."""
    y = x / SCALE
    s = ALPHA + (1 - 2 * ALPHA) * y
    l = torch.log(s) - torch.log1p(-s)
    log_jac = (math.log(1 - 2 * ALPHA) - math.log(SCALE) - torch.log(s) - torch.log1p(-s)).sum(1)
    return l, log_jac


def log_prob(flow, x):
    """log p(x) in nats, data units (standard normal base, preprocessing Jacobian included)."""
    l, log_jac = preprocess(x)
    z, logdet = flow(l.reshape(flow.shape(x.shape[0])))
    z = z.reshape(x.shape[0], DIM)
    return -0.5 * (z * z).sum(1) - 0.5 * DIM * math.log(2 * math.pi) + logdet + log_jac


# --- Glow --------------------------------------------------------------------

def squeeze(x):
    """[B, 1, 8, 8] -> [B, 4, 4, 4]: channel = 2 * row parity + column parity."""
    x = x.reshape(-1, 1, 4, 2, 4, 2)
    return x.permute(0, 1, 3, 5, 2, 4).reshape(-1, 4, 4, 4)


def unsqueeze(x):
    x = x.reshape(-1, 1, 2, 2, 4, 4)
    return x.permute(0, 1, 4, 2, 5, 3).reshape(-1, 1, 8, 8)


class ActNorm(nn.Module):
    """y = (x + loc) * exp(logs) per channel; log|det| = pixels * sum(logs)."""

    def __init__(self, channels, pixels):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.pixels = pixels
        self.initialized = False

    def forward(self, x):
        if not self.initialized:  # data-dependent init (Glow): unit variance per channel
            with torch.no_grad():
                self.loc.copy_(-x.mean((0, 2, 3), keepdim=True))
                self.logs.copy_(-torch.log(x.std((0, 2, 3), keepdim=True) + 1e-6))
            self.initialized = True
        return (x + self.loc) * torch.exp(self.logs), self.pixels * self.logs.sum()

    def inverse(self, y):
        return y * torch.exp(-self.logs) - self.loc


class Invertible1x1(nn.Module):
    """A 1x1 convolution with a learned C x C matrix W; log|det| = pixels * log|det W|.
    For export, log|det W| and W^-1 are constants computed here (freeze())."""

    def __init__(self, channels, pixels, generator):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(channels, channels, generator=generator))
        self.weight = nn.Parameter(q)
        self.pixels = pixels
        self.frozen = False

    def freeze(self):
        with torch.no_grad():
            self.register_buffer("logdet_constant", self.pixels * torch.slogdet(self.weight)[1])
            self.register_buffer("inverse_weight", torch.inverse(self.weight.double()).float())
        self.frozen = True

    def forward(self, x):
        c = self.weight.shape[0]
        logdet = self.logdet_constant if self.frozen else self.pixels * torch.slogdet(self.weight)[1]
        return F.conv2d(x, self.weight.reshape(c, c, 1, 1)), logdet

    def inverse(self, y):
        c = self.weight.shape[0]
        return F.conv2d(y, self.inverse_weight.reshape(c, c, 1, 1))


class ConvCoupling(nn.Module):
    """Glow coupling on channels: x = [a, b], a passes; affine: b' = b exp(s(a)) + t(a),
    additive (NICE): b' = b + t(a)."""

    def __init__(self, channels, hidden, affine):
        super().__init__()
        self.half = channels // 2
        self.affine = affine
        out = 2 * self.half if affine else self.half
        self.net = nn.Sequential(nn.Conv2d(self.half, hidden, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(hidden, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, out, 3, padding=1))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def params(self, a):
        h = self.net(a)
        if not self.affine:
            return None, h
        return torch.tanh(h[:, :self.half]), h[:, self.half:]

    def forward(self, x):
        a, b = x[:, :self.half], x[:, self.half:]
        s, t = self.params(a)
        if self.affine:
            return torch.cat([a, b * torch.exp(s) + t], 1), s.sum((1, 2, 3))
        return torch.cat([a, b + t], 1), None

    def inverse(self, y):
        a, b = y[:, :self.half], y[:, self.half:]
        s, t = self.params(a)
        if self.affine:
            return torch.cat([a, (b - t) * torch.exp(-s)], 1)
        return torch.cat([a, b - t], 1)


class Glow(nn.Module):
    def __init__(self, generator):
        super().__init__()
        self.layers = nn.ModuleList()
        for affine in (True, False, True, False):
            self.layers.extend([ActNorm(4, 16), Invertible1x1(4, 16, generator), ConvCoupling(4, 16, affine)])

    @staticmethod
    def shape(batch):
        return (batch, 1, 8, 8)

    def forward(self, l):
        x = squeeze(l)
        coupling_logdet, constant = None, 0.0
        for layer in self.layers:
            x, ld = layer(x)
            if ld is None:
                continue
            if ld.dim() == 0:  # ActNorm and 1x1 convolutions: the same for every item
                constant = constant + ld
            else:
                coupling_logdet = ld if coupling_logdet is None else coupling_logdet + ld
        return unsqueeze(x), coupling_logdet + constant

    def inverse(self, z):
        x = squeeze(z)
        for layer in reversed(self.layers):
            x = layer.inverse(x)
        return unsqueeze(x)

    def freeze(self):
        for layer in self.layers:
            if isinstance(layer, Invertible1x1):
                layer.freeze()


# --- MAF ---------------------------------------------------------------------

class MadeLayer(nn.Module):
    """One MAF layer: a MADE (Germain et al. 2015) gives mu_i, alpha_i from x_<i
    (in `order`); forward u = (x - mu) exp(-alpha), log|det| = -sum(alpha)."""

    def __init__(self, order, hidden, generator):
        super().__init__()
        degrees_in = order + 1  # 1..D
        degrees_hidden = torch.randint(1, DIM, (hidden,), generator=generator)
        self.register_buffer("mask1", (degrees_hidden[:, None] >= degrees_in[None, :]).float())
        self.register_buffer("mask2", (degrees_in[:, None] > degrees_hidden[None, :]).float())
        self.w1 = nn.Parameter(torch.randn(hidden, DIM, generator=generator) / math.sqrt(DIM))
        self.b1 = nn.Parameter(torch.zeros(hidden))
        # Two output layers rather than one sliced in half: fewer nodes in each
        # of the inverse's 64 unrolled passes.
        self.w_mu = nn.Parameter(torch.zeros(DIM, hidden))
        self.b_mu = nn.Parameter(torch.zeros(DIM))
        self.w_alpha = nn.Parameter(torch.zeros(DIM, hidden))
        self.b_alpha = nn.Parameter(torch.zeros(DIM))
        self.frozen = False

    def freeze(self):
        """Export with the masked weights as plain tensors: every unrolled pass
        of the inverse then reads the same two initializers."""
        with torch.no_grad():
            self.w1.mul_(self.mask1)
            self.w_mu.mul_(self.mask2)
            self.w_alpha.mul_(self.mask2)
        self.frozen = True

    def params(self, x):
        if self.frozen:  # no Mul in the exported graph: each pass reads the initializers
            w1, w_mu, w_alpha = self.w1, self.w_mu, self.w_alpha
        else:
            w1, w_mu, w_alpha = self.w1 * self.mask1, self.w_mu * self.mask2, self.w_alpha * self.mask2
        h = F.relu(F.linear(x, w1, self.b1))
        return F.linear(h, w_mu, self.b_mu), torch.tanh(F.linear(h, w_alpha, self.b_alpha))

    def forward(self, x):
        mu, alpha = self.params(x)
        return (x - mu) * torch.exp(-alpha), -alpha.sum(1)

    def inverse(self, u):
        # x_i depends on x_<i only: after pass k every dimension of order < k is
        # exact, so DIM passes from any start give x.
        x = u * 0
        for _ in range(DIM):
            mu, alpha = self.params(x)
            x = u * torch.exp(alpha) + mu
        return x


class VectorFlow(nn.Module):
    """ActNorm on the 64 values, then `layers` (each x -> (y, logdet) with an
    inverse): the structure the MAF and the spline flow share."""

    def __init__(self, layers):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(DIM))
        self.logs = nn.Parameter(torch.zeros(DIM))
        self.layers = nn.ModuleList(layers)

    @staticmethod
    def shape(batch):
        return (batch, DIM)

    def forward(self, l):
        x = (l + self.loc) * torch.exp(self.logs)
        logdet = None
        for layer in self.layers:
            x, ld = layer(x)
            logdet = ld if logdet is None else logdet + ld
        return x, logdet + self.logs.sum()

    def inverse(self, z):
        x = z
        for layer in reversed(self.layers):
            x = layer.inverse(x)
        return x * torch.exp(-self.logs) - self.loc

    def freeze(self):
        for layer in self.layers:
            if hasattr(layer, "freeze"):
                layer.freeze()


def Maf(generator):
    natural = torch.arange(DIM)
    return VectorFlow([MadeLayer(natural, 32, generator), MadeLayer(natural.flip(0), 32, generator)])


# --- Neural spline flow --------------------------------------------------------

BINS = 8
BOUND = 2.5
MIN_WIDTH = MIN_HEIGHT = MIN_DERIVATIVE = 1e-3


def rational_quadratic(x, raw_widths, raw_heights, raw_derivatives, inverse):
    """Monotone rational-quadratic spline of Durkan et al. (2019), elementwise.

    x [B, D]; raw_widths, raw_heights [B, D, K]; raw_derivatives [B, D, K-1]
    (the interior knots; the two end knots have derivative 1 so that the
    identity tails outside [-BOUND, BOUND] join smoothly). Returns y and
    log|dy/dx| (of the forward map, at x or at the inverse's output)."""
    K, B = BINS, BOUND
    widths = MIN_WIDTH + (1 - MIN_WIDTH * K) * F.softmax(raw_widths, -1)
    heights = MIN_HEIGHT + (1 - MIN_HEIGHT * K) * F.softmax(raw_heights, -1)
    interior = MIN_DERIVATIVE + F.softplus(raw_derivatives)
    one = interior[..., :1] * 0 + 1
    derivatives = torch.cat([one, interior, one], -1)  # K + 1 knots
    x_right = -B + 2 * B * torch.cumsum(widths, -1)  # right edge of each bin
    y_right = -B + 2 * B * torch.cumsum(heights, -1)
    bin_widths, bin_heights = 2 * B * widths, 2 * B * heights
    x_left, y_left = x_right - bin_widths, y_right - bin_heights

    inside = (x >= -B) & (x <= B)  # as in the paper's code: a run-time And
    clamped = torch.clamp(x, -B, B)
    # searchsorted: the bin is the number of interior knots at or left of the input.
    knots = (y_right if inverse else x_right)[..., :K - 1]
    index = (clamped[..., None] >= knots).float().sum(-1, keepdim=True).long()

    def pick(t):
        return torch.gather(t, -1, index).squeeze(-1)

    xk, yk, wk, hk = pick(x_left), pick(y_left), pick(bin_widths), pick(bin_heights)
    dk, dk1 = pick(derivatives[..., :K]), pick(derivatives[..., 1:])
    sk = hk / wk
    if not inverse:
        xi = (clamped - xk) / wk
    else:
        dy = clamped - yk
        c2 = dk1 + dk - 2 * sk
        a = hk * (sk - dk) + dy * c2
        b = hk * dk - dy * c2
        c = -sk * dy
        disc = torch.clamp(b * b - 4 * a * c, min=0.0)
        xi = 2 * c / (-b - torch.sqrt(disc))
    t = xi * (1 - xi)
    denominator = sk + (dk1 + dk - 2 * sk) * t
    derivative = sk * sk * (dk1 * xi * xi + 2 * sk * t + dk * (1 - xi) * (1 - xi)) / (denominator * denominator)
    log_derivative = torch.where(inside, torch.log(derivative), torch.zeros_like(x))
    if not inverse:
        y = yk + hk * (sk * xi * xi + dk * t) / denominator
        return torch.where(inside, y, x), log_derivative
    return torch.where(inside, xk + xi * wk, x), log_derivative


class SplineCoupling(nn.Module):
    """Half the dimensions condition a spline on each of the other half."""

    def __init__(self, flip, hidden):
        super().__init__()
        self.flip = flip
        half = DIM // 2
        self.per_dim = 3 * BINS - 1
        self.net = nn.Sequential(nn.Linear(half, hidden), nn.ReLU(), nn.Linear(hidden, half * self.per_dim))
        nn.init.normal_(self.net[-1].weight, std=0.01)
        nn.init.zeros_(self.net[-1].bias)
        self.outside = 0  # inputs on the linear tails in the last reference pass

    def split(self, x):
        a, b = x[:, :DIM // 2], x[:, DIM // 2:]
        return (b, a) if self.flip else (a, b)

    def join(self, a, b):
        return torch.cat([b, a] if self.flip else [a, b], 1)

    def transform(self, x, inverse):
        a, b = self.split(x)
        h = self.net(a).reshape(-1, DIM // 2, self.per_dim)
        if not torch.jit.is_tracing():
            self.outside = int((torch.abs(b) > BOUND).sum())
        out, log_derivative = rational_quadratic(b, h[..., :BINS], h[..., BINS:2 * BINS], h[..., 2 * BINS:], inverse)
        return self.join(a, out), log_derivative.sum(1)

    def forward(self, x):
        return self.transform(x, False)

    def inverse(self, y):
        return self.transform(y, True)[0]


def SplineFlow():
    return VectorFlow([SplineCoupling(flip, 8) for flip in (False, True)])


class Inverse(nn.Module):
    def __init__(self, flow):
        super().__init__()
        self.flow = flow

    def forward(self, z):
        return self.flow.inverse(z)


def init_loc_logs(flow, train):
    """Data-dependent ActNorm init of the flat flows' first layer."""
    with torch.no_grad():
        l, _ = preprocess(train + torch.rand_like(train))
        flow.loc.copy_(-l.mean(0))
        flow.logs.copy_(-torch.log(l.std(0) + 1e-6))


def train_flow(name, flow, train, lr):
    if isinstance(flow, Glow):
        with torch.no_grad():  # runs the ActNorms' data-dependent init
            log_prob(flow, train[:512] + torch.rand(min(512, train.shape[0]), DIM))
    else:
        init_loc_logs(flow, train)
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    for step in range(STEPS):
        rows = torch.randint(0, train.shape[0], (64,))
        xb = train[rows] + torch.rand(64, DIM)
        loss = -log_prob(flow, xb).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == STEPS - 1:
            print(f"{name} step {step}: nll {loss.item():.1f} nats")
    flow.eval()
    flow.freeze()


def export(flow, name, x, z, event_shape):
    out = HERE / name
    ref = out / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(flow.shape(1))
    axes = {n: {0: "batch"} for n in ["l", "z", "logdet"]}
    torch.onnx.export(flow, example, str(out / "forward.onnx"), input_names=["l"], output_names=["z", "logdet"],
                      opset_version=OPSET, dynamic_axes=axes)
    torch.onnx.export(Inverse(flow), example, str(out / "inverse.onnx"), input_names=["z"], output_names=["l"],
                      opset_version=OPSET, dynamic_axes={"z": {0: "batch"}, "l": {0: "batch"}})
    manifest = {"kind": "flow", "graphs": {"forward": "forward.onnx", "inverse": "inverse.onnx"},
                "outputs": {"z": "z", "logdet": "logdet"}, "event_shape": event_shape, "base": "normal",
                "preprocess": {"dequantize_scale": SCALE, "logit_alpha": ALPHA}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    with torch.no_grad():
        lp = log_prob(flow, x)
        inv = flow.inverse(z.reshape(flow.shape(z.shape[0]))).reshape(z.shape[0], DIM)
        # The exported flow is the trained one: the round trip and the
        # log-determinant agree with autograd's Jacobian on one item.
        l, _ = preprocess(x)
        back = flow.inverse(flow(l.reshape(flow.shape(x.shape[0])))[0]).reshape(x.shape[0], DIM)
        assert torch.allclose(back, l, atol=1e-3), (back - l).abs().max()
    one = l[:1].double()
    flow64 = flow.double()
    jacobian = torch.autograd.functional.jacobian(
        lambda v: flow64(v.reshape(flow.shape(1)))[0].reshape(DIM), one[0])
    with torch.no_grad():
        logdet = flow64(one.reshape(flow.shape(1)))[1]
    flow.float()
    assert abs(torch.slogdet(jacobian)[1] - logdet.reshape(())) < 1e-6 * DIM, (torch.slogdet(jacobian)[1], logdet)
    np.save(ref / "x.npy", x.numpy().astype(np.float32))
    np.save(ref / "log_prob.npy", lp.numpy().astype(np.float32))
    np.save(ref / "z.npy", z.numpy().astype(np.float32))
    np.save(ref / "inverse_l.npy", inv.numpy().astype(np.float32))
    print(f"{name}: log p {lp.numpy()[:3]} ..., round trip max |l' - l| {float((back - l).abs().max()):.2e}")


def main():
    digits = load_digits()
    data = torch.from_numpy(digits.data.astype(np.float32))
    order = torch.randperm(data.shape[0], generator=torch.Generator().manual_seed(0))
    train, test = data[order[:1400]], data[order[1400:]]
    x = test[:16] + torch.rand(16, DIM, generator=torch.Generator().manual_seed(2))
    z = torch.randn(4, DIM, generator=torch.Generator().manual_seed(1))

    torch.manual_seed(0)
    glow = Glow(torch.Generator().manual_seed(3))
    train_flow("glow", glow, train, 3e-3)
    export(glow, "glow", x, z, [1, 8, 8])

    torch.manual_seed(0)
    maf = Maf(torch.Generator().manual_seed(4))
    train_flow("maf", maf, train, 2e-3)
    export(maf, "maf", x, z, [DIM])

    torch.manual_seed(0)
    spline = SplineFlow()
    train_flow("spline", spline, train, 3e-3)
    with torch.no_grad():
        log_prob(spline, x)
        outside = [layer.outside for layer in spline.layers]
        spline.inverse(z)
        outside_inverse = [layer.outside for layer in spline.layers]
    print(f"spline: inputs on the linear tails per coupling: forward {outside} of {16 * DIM // 2}, "
          f"inverse {outside_inverse} of {4 * DIM // 2}")
    assert sum(outside) > 0 and sum(outside_inverse) > 0, "the reference inputs should exercise the linear tails"
    export(spline, "spline", x, z, [DIM])


if __name__ == "__main__":
    main()
