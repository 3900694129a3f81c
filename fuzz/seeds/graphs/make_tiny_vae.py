#!/usr/bin/env python3
"""Writes tiny_encoder.onnx and tiny_decoder.onnx beside this script: a VAE
of 4 values and a 2-d latent (encoder x -> mean, logvar by two Gemms;
decoder z -> Sigmoid(Gemm)), so that fuzz_model has a VAE seed of a few
hundred bytes (the example VAE is 384 KiB, above the fuzzer's -max_len).
Plain protobuf encoding: needs neither onnx nor protobuf for Python."""
import os
import struct


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, value):
    """A protobuf field: int (varint) or bytes/str (length-delimited)."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


FLOAT = 1


def tensor(name, dims, values):
    return (b"".join(field(1, d) for d in dims) + field(2, FLOAT) + field(8, name) +
            field(9, struct.pack("<%df" % len(values), *values)))


def value_info(name, dims):
    shape = b"".join(field(1, field(2, d) if isinstance(d, str) else field(1, d)) for d in dims)
    return field(1, name) + field(2, field(1, field(1, FLOAT) + field(2, shape)))


def node(op, inputs, outputs, name):
    return b"".join(field(1, i) for i in inputs) + b"".join(field(2, o) for o in outputs) + field(3, name) + field(4, op)


def model(nodes, initializers, inputs, outputs):
    graph = (b"".join(field(1, n) for n in nodes) + field(2, "tiny") + b"".join(field(5, t) for t in initializers) +
             b"".join(field(11, v) for v in inputs) + b"".join(field(12, v) for v in outputs))
    return field(1, 8) + field(7, graph) + field(8, field(2, 13))  # ir_version 8, opset 13


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    encoder = model(
        [node("Gemm", ["x", "w_mean", "b_mean"], ["mean"], "mean"),
         node("Gemm", ["x", "w_logvar", "b_logvar"], ["logvar"], "logvar")],
        [tensor("w_mean", [4, 2], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.5]),
         tensor("b_mean", [2], [0.1, -0.1]),
         tensor("w_logvar", [4, 2], [0.05, 0.0, -0.05, 0.1, 0.0, 0.02, 0.1, -0.1]),
         tensor("b_logvar", [2], [-1.0, -0.5])],
        [value_info("x", ["batch", 4])], [value_info("mean", ["batch", 2]), value_info("logvar", ["batch", 2])])
    decoder = model(
        [node("Gemm", ["z", "w", "b"], ["logits"], "dense"), node("Sigmoid", ["logits"], ["x_hat"], "sigmoid")],
        [tensor("w", [2, 4], [1.0, -1.0, 0.5, 0.25, -0.5, 0.75, 1.5, -0.25]), tensor("b", [4], [0.0, 0.1, -0.1, 0.2])],
        [value_info("z", ["batch", 2])], [value_info("x_hat", ["batch", 4])])
    for name, data in (("tiny_encoder.onnx", encoder), ("tiny_decoder.onnx", decoder)):
        with open(os.path.join(here, name), "wb") as out:
            out.write(data)


if __name__ == "__main__":
    main()
