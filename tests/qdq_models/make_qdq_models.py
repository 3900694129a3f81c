"""Makes the QDQ models of tests/qdq_import_test.cc with Debian's PyTorch 1.13
FX post-training quantization (run with /usr/bin/python3; ~5 s). Commits
the ONNX graph, an input and PyTorch's quantized output, so the test needs
no torch."""
import os

import numpy as np
import torch
import torch.nn as nn
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

ENGINE = "qnnpack"
HERE = os.path.dirname(os.path.abspath(__file__))


class ConvLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.conv2(x)
        return self.linear(self.flatten(x))


def main():
    torch.manual_seed(0)
    torch.backends.quantized.engine = ENGINE
    model = ConvLinear().eval()
    example = torch.randn(1, 3, 8, 8)
    prepared = prepare_fx(model, get_default_qconfig_mapping(ENGINE), (example,))
    with torch.no_grad():
        for _ in range(32):
            prepared(torch.randn(4, 3, 8, 8))
    quantized = convert_fx(prepared)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        y = quantized(x)
    torch.onnx.export(quantized, (x,), os.path.join(HERE, "fx_conv_linear.onnx"), opset_version=13,
                      input_names=["x"], output_names=["y"])
    np.save(os.path.join(HERE, "fx_conv_linear_input.npy"), x.numpy())
    np.save(os.path.join(HERE, "fx_conv_linear_output.npy"), y.numpy())
    # One step of the int8 output, in output units: the test's tolerance.
    np.save(os.path.join(HERE, "fx_conv_linear_output_scale.npy"), np.array([quantized.linear.scale], np.float32))


if __name__ == "__main__":
    main()
