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


class Streaming(torch.nn.Module):
    """A voice-activity-detector-shaped streaming model: per-frame features
    -> GRU carrying its state from one chunk to the next -> a probability."""

    def __init__(self):
        super().__init__()
        self.encode = torch.nn.Linear(FEATURES, 8)
        self.gru = torch.nn.GRU(8, 8)
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x, h0):
        y, h = self.gru(torch.tanh(self.encode(x)), h0)
        return torch.sigmoid(self.head(y)), h


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

    # Streaming: the graph takes CHUNK frames and the state; the reference is
    # PyTorch over all STEPS * CHUNK frames at once, which a runtime carrying
    # h from each run to the next must reproduce chunk by chunk.
    steps, chunk = 3, 4
    streaming = Streaming()
    scale_weights(streaming.gru, 2.0)
    streaming.eval()
    folder = os.path.join(HERE, "gru_streaming")
    os.makedirs(folder, exist_ok=True)
    torch.onnx.export(streaming, (torch.zeros(chunk, 1, FEATURES), torch.zeros(1, 1, 8)),
                      os.path.join(folder, "model.onnx"), opset_version=14, input_names=["x", "h0"],
                      output_names=["p", "h"], do_constant_folding=True)
    frames = torch.randn(steps * chunk, 1, FEATURES)
    with torch.no_grad():
        p, h = streaming(frames, torch.zeros(1, 1, 8))
    np.save(os.path.join(folder, "x_steps.npy"), frames.numpy().reshape(steps, chunk, 1, FEATURES))
    np.save(os.path.join(folder, "p_steps.npy"), p.numpy().reshape(steps, chunk, 1, 1))
    np.save(os.path.join(folder, "h_final.npy"), h.numpy())


if __name__ == "__main__":
    main()
