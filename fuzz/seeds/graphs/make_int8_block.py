#!/usr/bin/python3
"""Writes int8_block.onnx beside this script: a QDQ graph (as ONNX Runtime's
quantize_static writes them) whose Add, Concat and Sigmoid fold into the
converter's int8 Add, Concat and byte-table unary op, so that fuzz_model has
seeds with those operators' quantization parameters to mutate. A few hundred
bytes (the fuzzer's -max_len is small). Needs Debian's python3-onnx."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    inits = [
        numpy_helper.from_array(np.array(0.05, np.float32), "as"),
        numpy_helper.from_array(np.array(-4, np.int8), "az"),
        numpy_helper.from_array(np.array(0.02, np.float32), "bs"),
        numpy_helper.from_array(np.array(7, np.int8), "bz"),
        numpy_helper.from_array(np.array(1 / 256, np.float32), "ss"),
        numpy_helper.from_array(np.array(-128, np.int8), "sz"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["a", "as", "az"], ["aq"]),
        helper.make_node("DequantizeLinear", ["aq", "as", "az"], ["af"]),
        helper.make_node("QuantizeLinear", ["b", "bs", "bz"], ["bq"]),
        helper.make_node("DequantizeLinear", ["bq", "bs", "bz"], ["bf"]),
        helper.make_node("Add", ["af", "bf"], ["sum"]),
        helper.make_node("QuantizeLinear", ["sum", "as", "az"], ["sumq"]),
        helper.make_node("DequantizeLinear", ["sumq", "as", "az"], ["sumf"]),
        helper.make_node("Sigmoid", ["sumf"], ["sig"]),
        helper.make_node("QuantizeLinear", ["sig", "ss", "sz"], ["sigq"]),
        helper.make_node("DequantizeLinear", ["sigq", "ss", "sz"], ["sigf"]),
        helper.make_node("Concat", ["sigf", "bf"], ["cat"], axis=1),
        helper.make_node("QuantizeLinear", ["cat", "bs", "bz"], ["catq"]),
        helper.make_node("DequantizeLinear", ["catq", "bs", "bz"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "int8_block",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 2, 2, 2]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 2, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 2, 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="edgegen fuzz seeds")
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(os.path.dirname(os.path.abspath(__file__)), "int8_block.onnx"))


if __name__ == "__main__":
    main()
