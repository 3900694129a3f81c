#!/usr/bin/python3
"""A tiny decoder whose items are waveforms, for `edgegen sample -o x.wav`:
z [b, 8] -> Linear(8, 64) -> tanh -> ConvTranspose1d(4, 1, 16, stride 8, padding 4) -> tanh
-> [b, 1, 128] samples at 8000 Hz. Random weights (seed 0); the decoder's
numbers only need to be deterministic. Writes wave_decoder.onnx and
wave_manifest.json next to this script.

    /usr/bin/python3 tests/vocoder/make_wave_decoder.py
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class WaveDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 64)
        self.up = nn.ConvTranspose1d(4, 1, 16, stride=8, padding=4)

    def forward(self, z):
        x = torch.tanh(self.linear(z)).reshape(-1, 4, 16)
        return torch.tanh(self.up(x))


torch.manual_seed(0)
model = WaveDecoder().eval()
torch.onnx.export(model, torch.zeros(1, 8), os.path.join(HERE, "wave_decoder.onnx"), opset_version=13,
                  input_names=["z"], output_names=["wave"], dynamic_axes={"z": {0: "batch"}, "wave": {0: "batch"}})
with open(os.path.join(HERE, "wave_manifest.json"), "w") as f:
    json.dump({"kind": "decoder", "graphs": {"decoder": "wave_decoder.onnx"}, "latent_shape": [8],
               "output_range": [-1, 1], "sample_rate": 8000}, f, indent=2)
    f.write("\n")
