"""A categorical autoregressive model in its natural form: int64 token ids
into an embedding (ONNX Gather), a strictly causal mixing over positions,
and per-position logits. Random weights; saves rows, PyTorch's exact
log-likelihoods and a bernoulli manifest over the same graph (which the
converter must refuse), for tests/autoregressive_tokens_test.cc.

Run with Debian's /usr/bin/python3 (torch 1.13); nothing is trained.
    /usr/bin/python3 tests/autoregressive_tokens/make_model.py
"""
import json
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DIMS, CATEGORIES, HIDDEN, BATCH = 6, 5, 8, 4


class TokenMade(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(CATEGORIES, HIDDEN)
        # Position d sees positions < d only (a strictly lower triangle).
        self.mix = torch.nn.Parameter(torch.randn(DIMS, DIMS) * 0.5)
        self.register_buffer("causal", torch.tril(torch.ones(DIMS, DIMS), diagonal=-1))
        self.start = torch.nn.Parameter(torch.randn(DIMS, HIDDEN))
        self.head = torch.nn.Linear(HIDDEN, CATEGORIES)

    def forward(self, x):  # x: [b, DIMS] int64 -> logits [b, DIMS, CATEGORIES]
        e = self.embed(x)
        h = torch.matmul(self.mix * self.causal, e) + self.start
        return self.head(torch.tanh(h))


def main():
    torch.manual_seed(3)
    model = TokenMade().eval()
    rows = torch.randint(0, CATEGORIES, (16, DIMS))
    with torch.no_grad():
        logits = model(rows)
        log_prob = torch.log_softmax(logits, -1).gather(-1, rows.unsqueeze(-1)).squeeze(-1).sum(-1)
    torch.onnx.export(model, (rows[:BATCH],), os.path.join(HERE, "model.onnx"), opset_version=14,
                      input_names=["x"], output_names=["logits"], do_constant_folding=True)
    np.save(os.path.join(HERE, "rows.npy"), rows.numpy().astype(np.float32))
    np.save(os.path.join(HERE, "log_prob.npy"), log_prob.numpy().astype(np.float32))
    manifest = {"kind": "autoregressive", "graphs": {"conditionals": "model.onnx"}, "event_shape": [DIMS],
                "distribution": "categorical", "categories": CATEGORIES}
    with open(os.path.join(HERE, "manifest.json"), "w") as file:
        json.dump(manifest, file, indent=2)
        file.write("\n")
    manifest.update(distribution="bernoulli")
    del manifest["categories"]
    with open(os.path.join(HERE, "bernoulli_manifest.json"), "w") as file:
        json.dump(manifest, file, indent=2)
        file.write("\n")


if __name__ == "__main__":
    main()
