"""A tiny byte-level decoder-only transformer (Llama-shaped: RMSNorm, rotary
positions, SwiGLU MLP, no biases) with two ways to run it:

- ``forward_dynamic``: plain eager PyTorch with a growing KV cache (torch.cat),
  the reference every other engine is compared against;
- ``forward_static``: the exported form, a fixed cache of ``max_length`` rows
  per layer and K/V written at ``position`` with ScatterND (ExecuTorch's static
  KV cache), attention over all ``max_length`` rows masked by
  ``key_pos <= query_pos``, so a step costs the same at every position.

Both share the same parameters. Imported by train.py, export.py and
bench/token_decoder_torch.py; run with Debian's /usr/bin/python3 (torch 1.13).
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn


@dataclass
class Config:
    vocab_size: int = 258  # bytes 0..255, then BOS = 256, EOS = 257
    d_model: int = 192
    n_layers: int = 4
    n_heads: int = 4
    mlp_hidden: int = 512
    max_length: int = 256
    rope_base: float = 10000.0
    norm_eps: float = 1e-5
    bos: int = 256
    eos: int = 257

    @property
    def head_dim(self):
        return self.d_model // self.n_heads

    def to_dict(self):
        return asdict(self)


class ScatterRows(torch.autograd.Function):
    """cache[indices] = updates, out of place; exported as one ONNX ScatterND.

    indices: int64 [..., 3] of (batch, head, row) triples over a
    [batch, heads, rows, head_dim] cache, updates [..., head_dim].
    """

    @staticmethod
    def forward(ctx, cache, indices, updates):
        out = cache.clone()
        b, h, r = indices.unbind(-1)
        out[b, h, r] = updates
        return out

    @staticmethod
    def symbolic(g, cache, indices, updates):
        return g.op("ScatterND", cache, indices, updates)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # Written out (Pow, ReduceMean, Add, Sqrt, Div, Mul) so the export
        # needs no Rsqrt / Reciprocal.
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    # Explicit ends: the exported Slices then say 24:48, not 24:INT64_MAX.
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:2 * half], x[..., :half]), dim=-1)


def rotary(x, positions, inv_freq):
    """x [B, H, T, hd]; positions int64 [T]."""
    freqs = positions.to(torch.float32).unsqueeze(-1) * inv_freq  # [T, hd/2]
    angles = torch.cat((freqs, freqs), dim=-1)  # [T, hd]
    return x * torch.cos(angles) + rotate_half(x) * torch.sin(angles)


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        d, hidden = config.d_model, config.mlp_hidden
        self.config = config
        self.attn_norm = RMSNorm(d, config.norm_eps)
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.mlp_norm = RMSNorm(d, config.norm_eps)
        self.w_gate = nn.Linear(d, hidden, bias=False)
        self.w_up = nn.Linear(d, hidden, bias=False)
        self.w_down = nn.Linear(hidden, d, bias=False)

    def qkv(self, x, positions, inv_freq, batch, length):
        heads, head_dim = self.config.n_heads, self.config.head_dim
        h = self.attn_norm(x)

        def split(t):
            return t.view(batch, length, heads, head_dim).transpose(1, 2)

        q = rotary(split(self.wq(h)), positions, inv_freq)
        k = rotary(split(self.wk(h)), positions, inv_freq)
        v = split(self.wv(h))
        return q, k, v

    def finish(self, x, attended, batch, length):
        x = x + self.wo(attended.transpose(1, 2).reshape(batch, length, self.config.d_model))
        h = self.mlp_norm(x)
        gate = self.w_gate(h)
        return x + self.w_down(gate * torch.sigmoid(gate) * self.w_up(h))


class TinyLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.d_model, config.norm_eps)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        hd = config.head_dim
        inv_freq = 1.0 / (config.rope_base ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.apply(self._init)
        for block in self.blocks:  # GPT-2's scaled init of the residual projections
            for w in (block.wo.weight, block.w_down.weight):
                nn.init.normal_(w, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)

    # --- training and the eager reference: a growing cache ---------------------
    def forward_dynamic(self, tokens, past=None):
        """tokens int64 [B, T]; past: None or a list of (k, v) [B, H, P, hd].

        Returns logits [B, T, vocab] and the new list of (k, v) [B, H, P+T, hd].
        The causal mask covers the new tokens; all past rows are visible.
        """
        batch, length = tokens.shape
        start = 0 if past is None else past[0][0].shape[2]
        positions = torch.arange(start, start + length)
        x = self.embed(tokens)
        scale = 1.0 / math.sqrt(self.config.head_dim)
        causal = torch.ones(length, start + length, dtype=torch.bool).tril(start)
        present = []
        for i, block in enumerate(self.blocks):
            q, k, v = block.qkv(x, positions, self.inv_freq, batch, length)
            if past is not None:
                k = torch.cat((past[i][0], k), dim=2)
                v = torch.cat((past[i][1], v), dim=2)
            present.append((k, v))
            scores = (q @ k.transpose(-1, -2)) * scale
            scores = scores.masked_fill(~causal, float("-inf"))
            x = block.finish(x, torch.softmax(scores, dim=-1) @ v, batch, length)
        return self.head(self.norm(x)), present

    # --- the exported form: a fixed cache, written at `position` --------------
    def forward_static(self, tokens, position, caches, length):
        """tokens int64 [1, length]; position int64 [1] (row of tokens[0, 0]);
        caches: flat list k0, v0, k1, v1, ... each [1, H, max_length, hd].

        Returns logits [1, length, vocab] and the flat list of updated caches.
        `length` is a Python int so every shape in the exported graph is
        constant.
        """
        config = self.config
        heads, head_dim, rows = config.n_heads, config.head_dim, config.max_length
        offsets = torch.arange(length, dtype=torch.int64)
        positions = position + offsets  # [length]
        # ScatterND indices [1, H, length, 3] = (0, h, position + t).
        head_part = torch.arange(heads, dtype=torch.int64).view(1, heads, 1, 1) * torch.tensor([0, 1, 0])
        row_part = positions.view(1, 1, length, 1) * torch.tensor([0, 0, 1])
        indices = head_part + row_part  # broadcast to [1, H, length, 3]
        # Key row r is visible to query t when r < position + t + 1.
        key_rows = torch.arange(rows, dtype=torch.int64).view(1, rows)
        visible = key_rows < (positions + 1).view(length, 1)  # [length, rows]
        masked = torch.tensor(-1e9, dtype=torch.float32)
        scale = 1.0 / math.sqrt(head_dim)

        x = self.embed(tokens)
        out_caches = []
        for i, block in enumerate(self.blocks):
            q, k, v = block.qkv(x, positions, self.inv_freq, 1, length)
            k_cache = ScatterRows.apply(caches[2 * i], indices, k)
            v_cache = ScatterRows.apply(caches[2 * i + 1], indices, v)
            out_caches += [k_cache, v_cache]
            scores = torch.matmul(q, k_cache.transpose(-1, -2)) * scale  # [1, H, length, rows]
            scores = torch.where(visible, scores, masked)
            x = block.finish(x, torch.matmul(torch.softmax(scores, dim=-1), v_cache), 1, length)
        return self.head(self.norm(x)), out_caches


class StaticGraph(nn.Module):
    """The module torch.onnx.export traces: one fixed token count."""

    def __init__(self, model, length):
        super().__init__()
        self.model = model
        self.length = length

    def forward(self, input_ids, position, *caches):
        logits, out = self.model.forward_static(input_ids, position, list(caches), self.length)
        return (logits, *out)


def load(path):
    state = torch.load(path, map_location="cpu")
    model = TinyLM(Config(**state["config"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model


@torch.inference_mode()
def greedy_dynamic(model, prompt, new_tokens, stop_at_eos=False):
    """Greedy decoding with the eager growing cache: the prompt in one call,
    then one token per call. Returns (generated token ids, logits of each call's
    last position [new_tokens, vocab])."""
    logits, past = model.forward_dynamic(torch.tensor([prompt], dtype=torch.int64))
    generated, step_logits = [], []
    for _ in range(new_tokens):
        last = logits[0, -1]
        step_logits.append(last.clone())
        token = int(torch.argmax(last))
        generated.append(token)
        if stop_at_eos and token == model.config.eos:
            break
        logits, past = model.forward_dynamic(torch.tensor([[token]], dtype=torch.int64), past)
    return generated, torch.stack(step_logits)
