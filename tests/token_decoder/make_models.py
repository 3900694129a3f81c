#!/usr/bin/python3
"""Small random-weight transformer decoders with a static KV cache, exported
the way on-device LLM exports are (ExecuTorch's static cache): a step graph
that takes one token, its position and every layer's K/V cache
[b, kv_heads, max_length, head_dim] and returns the logits and the updated
caches. Covers the variants real exports have, one model per row:

  name          cache update               positions  norm   act   heads/kv  layers
  scatter_mha   ScatterND (index_put)      learned    Layer  GELU  4/4       1
  where_gqa     Where (mask select)        RoPE       RMS    SiLU  4/2       3
  elements_rope ScatterElements (scatter)  RoPE       Layer  SiLU  4/1       1
  scatter_deep  ScatterND (index_put)      RoPE       RMS    GELU  4/2       3

Each model also has a prefill graph (T tokens written at position..position+T-1).
Per model, in <name>/: step.onnx, prefill.onnx, manifest.json and
reference.json: the greedy tokens PyTorch's own eager loop produces from a
prompt, and the logits of every step (for the 1e-4 comparison).

  /usr/bin/python3 tests/token_decoder/make_models.py     (a few seconds)
"""

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).resolve().parent
OPSET = 13
VOCAB = 256
torch.set_num_threads(1)

VARIANTS = [
    dict(name="scatter_mha", update="scatter_nd", pos="learned", norm="layer", act="gelu",
         heads=4, kv_heads=4, layers=1, dim=32, max_length=32, prefill=8),
    dict(name="where_gqa", update="where", pos="rope", norm="rms", act="silu",
         heads=4, kv_heads=2, layers=3, dim=32, max_length=24, prefill=4),
    dict(name="elements_rope", update="scatter_elements", pos="rope", norm="layer", act="silu",
         heads=4, kv_heads=1, layers=1, dim=32, max_length=32, prefill=8),
    dict(name="scatter_deep", update="scatter_nd", pos="rope", norm="rms", act="gelu",
         heads=4, kv_heads=2, layers=3, dim=48, max_length=40, prefill=8),
]
PROMPT = [1, 72, 101, 108, 108, 111]  # bos, "Hello"
GENERATE = 12


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d, h, kvh = c["dim"], c["heads"], c["kv_heads"]
        self.hd = d // h
        norm = (lambda: nn.LayerNorm(d)) if c["norm"] == "layer" else (lambda: RMSNorm(d))
        self.norm1, self.norm2 = norm(), norm()
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, kvh * self.hd)
        self.v = nn.Linear(d, kvh * self.hd)
        self.o = nn.Linear(d, d)
        self.up = nn.Linear(d, 2 * d)
        self.down = nn.Linear(2 * d, d)

    def update(self, cache, new, position, steps):
        """Writes new [b, kvh, T, hd] at rows position..position+T-1 of cache."""
        c = self.c
        b, kvh, length, hd = cache.shape
        rows = position + torch.arange(steps)  # [T]
        if c["update"] == "scatter_nd":
            # ExecuTorch's static cache: k_cache[:, :, input_pos] = k_val, as index_put.
            return torch.index_put(cache, (torch.arange(b).view(b, 1, 1), torch.arange(kvh).view(1, kvh, 1),
                                           rows.view(1, 1, steps)), new)
        if c["update"] == "scatter_elements":
            index = rows.view(1, 1, steps, 1).expand(b, kvh, steps, hd)
            return cache.scatter(2, index, new)
        # where: a mask over the whole cache, O(max_length) per token
        grid = torch.arange(length).view(length, 1)
        hit = grid == rows.view(1, steps)  # [L, T]
        spread = torch.matmul(hit.to(new.dtype), new)  # [b, kvh, L, hd]: new[t] at row rows[t]
        return torch.where(hit.any(1).view(1, 1, length, 1), spread, cache)

    def forward(self, x, k_cache, v_cache, position, cos, sin, mask):
        c = self.c
        b, steps, d = x.shape
        h, kvh, hd = c["heads"], c["kv_heads"], self.hd
        y = self.norm1(x)
        q = self.q(y).view(b, steps, h, hd).transpose(1, 2)
        k = self.k(y).view(b, steps, kvh, hd).transpose(1, 2)
        v = self.v(y).view(b, steps, kvh, hd).transpose(1, 2)
        if cos is not None:
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        k_cache = self.update(k_cache, k, position, steps)
        v_cache = self.update(v_cache, v, position, steps)
        keys, values = k_cache, v_cache
        if kvh != h:
            length = keys.shape[2]
            keys = keys.unsqueeze(2).expand(b, kvh, h // kvh, length, hd).reshape(b, h, length, hd)
            values = values.unsqueeze(2).expand(b, kvh, h // kvh, length, hd).reshape(b, h, length, hd)
        scores = torch.matmul(q, keys.transpose(2, 3)) / math.sqrt(hd) + mask
        attn = torch.matmul(torch.softmax(scores, -1), values)
        x = x + self.o(attn.transpose(1, 2).reshape(b, steps, d))
        y = self.norm2(x)
        y = F.gelu(self.up(y)) if c["act"] == "gelu" else F.silu(self.up(y))
        return x + self.down(y), k_cache, v_cache


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d = c["dim"]
        self.embed = nn.Embedding(VOCAB, d)
        if c["pos"] == "learned":
            self.pos = nn.Embedding(c["max_length"], d)
        else:
            hd = d // c["heads"]
            inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
            angles = torch.outer(torch.arange(c["max_length"]).float(), inv)
            angles = torch.cat((angles, angles), -1)
            self.register_buffer("cos_table", angles.cos())
            self.register_buffer("sin_table", angles.sin())
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["layers"]))
        self.norm = nn.LayerNorm(d) if c["norm"] == "layer" else RMSNorm(d)
        self.head = nn.Linear(d, VOCAB, bias=False)

    def forward(self, tokens, position, *caches):
        c = self.c
        steps = tokens.shape[1]
        position = position.reshape(())  # scalar index of the first token
        rows = position + torch.arange(steps)
        x = self.embed(tokens)
        cos = sin = None
        if c["pos"] == "learned":
            x = x + self.pos(rows).unsqueeze(0)
        else:
            cos = self.cos_table[rows].view(1, 1, steps, -1)
            sin = self.sin_table[rows].view(1, 1, steps, -1)
        length = c["max_length"]
        visible = torch.arange(length).view(1, length) <= rows.view(steps, 1)  # [T, L]
        mask = torch.where(visible, torch.zeros(()), torch.full((), -1e9)).view(1, 1, steps, length)
        out = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, caches[2 * i], caches[2 * i + 1], position, cos, sin, mask)
            out += [k, v]
        return (self.head(self.norm(x)),) + tuple(out)


def empty_caches(c, batch=1):
    hd = c["dim"] // c["heads"]
    return [torch.zeros(batch, c["kv_heads"], c["max_length"], hd) for _ in range(2 * c["layers"])]


def export(model, c, steps, path):
    names_in = ["input_ids", "position"]
    names_out = ["logits"]
    for i in range(c["layers"]):
        names_in += [f"k{i}", f"v{i}"]
        names_out += [f"k{i}_out", f"v{i}_out"]
    tokens = torch.zeros(1, steps, dtype=torch.long)
    position = torch.zeros(1, dtype=torch.long)
    torch.onnx.export(model, (tokens, position, *empty_caches(c)), str(path), opset_version=OPSET,
                      input_names=names_in, output_names=names_out, do_constant_folding=True)


def manifest(c):
    return {
        "kind": "token_decoder",
        "graphs": {"step": "step.onnx", "prefill": "prefill.onnx"},
        "inputs": {"tokens": "input_ids", "position": "position",
                   "cache": [[f"k{i}", f"v{i}"] for i in range(c["layers"])]},
        "outputs": {"logits": "logits",
                    "cache": [[f"k{i}_out", f"v{i}_out"] for i in range(c["layers"])]},
        "vocab_size": VOCAB, "max_length": c["max_length"], "bos": 1, "eos": 2, "tokenizer": "bytes",
    }


@torch.no_grad()
def greedy(model, c):
    """PyTorch's own eager loop over the step model: prompt token by token, then greedy."""
    caches = empty_caches(c)
    tokens = list(PROMPT)
    logits_per_step = []
    position = 0
    next_token = None
    while position < len(PROMPT) + GENERATE - 1:
        token = tokens[position]
        out = model(torch.tensor([[token]]), torch.tensor([position]), *caches)
        logits, caches = out[0], list(out[1:])
        logits_per_step.append(logits.reshape(-1).tolist())
        position += 1
        if position >= len(PROMPT):
            next_token = int(logits.reshape(-1).argmax())
            tokens.append(next_token)
    return tokens, logits_per_step


@torch.no_grad()
def prefill_logits(model, c):
    """The prefill graph's logits for the first T prompt tokens (padded with the last)."""
    t = c["prefill"]
    prompt = (PROMPT * 4)[:t]
    out = model(torch.tensor([prompt]), torch.tensor([0]), *empty_caches(c))
    return prompt, out[0].reshape(t, VOCAB).tolist()


def main():
    for index, c in enumerate(VARIANTS):
        torch.manual_seed(1000 + index)
        model = Decoder(c).eval()
        folder = HERE / c["name"]
        folder.mkdir(exist_ok=True)
        export(model, c, 1, folder / "step.onnx")
        export(model, c, c["prefill"], folder / "prefill.onnx")
        (folder / "manifest.json").write_text(json.dumps(manifest(c), indent=1) + "\n")
        tokens, logits = greedy(model, c)
        prompt, plogits = prefill_logits(model, c)
        reference = {"prompt": PROMPT, "tokens": tokens, "step_logits": [[round(v, 7) for v in row] for row in logits],
                     "prefill_prompt": prompt, "prefill_logits": [[round(v, 7) for v in row] for row in plogits]}
        (folder / "reference.json").write_text(json.dumps(reference) + "\n")
        print(c["name"], "tokens", tokens)


if __name__ == "__main__":
    main()
