"""Exports small PyTorch recurrent layers with random weights to ONNX and
saves their inputs and PyTorch's outputs, for tests/recurrent_test.cc.

Run with Debian's /usr/bin/python3 (torch 1.13); nothing is trained. The
seed is fixed, so running it again rewrites the same files.
    /usr/bin/python3 tests/recurrent/make_recurrent.py
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SEQ, BATCH, FEATURES = 7, 2, 5


class WithState(torch.nn.Module):
    """An LSTM fed its initial state, returning every output."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x, h0, c0):
        y, (h, c) = self.layer(x, (h0, c0))
        return y, h, c


class Plain(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        y, h = self.layer(x)
        return y, h


def scale_weights(layer, factor):
    # PyTorch's init (uniform +-1/sqrt(hidden)) keeps the gates near their
    # linear range; larger weights exercise the saturating parts too.
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.mul_(factor)


def export(name, module, inputs, input_names, output_names):
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    module.eval()
    with torch.no_grad():
        outputs = module(*inputs)
    torch.onnx.export(module, inputs, os.path.join(folder, "model.onnx"), opset_version=14,
                      input_names=input_names, output_names=output_names, do_constant_folding=True)
    for tensor, tensor_name in zip(list(inputs) + list(outputs), input_names + output_names):
        np.save(os.path.join(folder, tensor_name + ".npy"), tensor.numpy().astype(np.float32))


def main():
    torch.manual_seed(12)
    lstm = torch.nn.LSTM(FEATURES, 6, bidirectional=True)
    scale_weights(lstm, 2.0)
    export("lstm_bidirectional", WithState(lstm),
           (torch.randn(SEQ, BATCH, FEATURES), torch.randn(2, BATCH, 6), torch.randn(2, BATCH, 6)),
           ["x", "h0", "c0"], ["y", "h", "c"])

    gru = torch.nn.GRU(FEATURES, 7, num_layers=2)
    scale_weights(gru, 2.0)
    export("gru_two_layers", Plain(gru), (torch.randn(SEQ, BATCH, FEATURES),), ["x"], ["y", "h"])

    rnn = torch.nn.RNN(FEATURES, 4, bidirectional=True, batch_first=True)
    scale_weights(rnn, 2.0)
    export("rnn_batch_first", Plain(rnn), (torch.randn(BATCH, SEQ, FEATURES),), ["x"], ["y", "h"])


if __name__ == "__main__":
    main()
