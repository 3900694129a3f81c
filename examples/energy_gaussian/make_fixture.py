#!/usr/bin/python3
"""A score/energy fixture with a known answer (no training): a diagonal
Gaussian N(mu, diag(var)) in 2-D.

  score.onnx   x [batch,2], sigma [batch,1] -> s [batch,2]
               s = -(x - mu) / (var + sigma^2): the exact score of the data
               density smoothed by N(0, sigma^2 I), as a noise-conditional
               score network (Song & Ermon 2019) would learn it.
  energy.onnx  x [batch,2] -> e [batch]: E = 0.5 sum (x - mu)^2 / var

Annealed Langevin sampling with this score must reproduce mu and var; the
energy is an anomaly score. Re-run from the repository root:
  /usr/bin/python3 examples/energy_gaussian/make_fixture.py
"""

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
MU = np.array([1.0, -2.0], np.float32)
VAR = np.array([0.25, 1.0], np.float32)


def save(nodes, inputs, outputs, inits, path):
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def main():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])
    sigma = helper.make_tensor_value_info("sigma", TensorProto.FLOAT, ["batch", 1])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, ["batch", 2])
    e = helper.make_tensor_value_info("e", TensorProto.FLOAT, ["batch"])
    save([helper.make_node("Sub", ["x", "mu"], ["d"]),
          helper.make_node("Mul", ["sigma", "sigma"], ["s2"]),
          helper.make_node("Add", ["s2", "var"], ["v"]),
          helper.make_node("Div", ["d", "v"], ["q"]),
          helper.make_node("Neg", ["q"], ["s"])],
         [x, sigma], [s], {"mu": MU, "var": VAR}, HERE / "score.onnx")
    save([helper.make_node("Sub", ["x", "mu"], ["d"]),
          helper.make_node("Mul", ["d", "d"], ["d2"]),
          helper.make_node("Mul", ["d2", "half_inv_var"], ["w"]),
          helper.make_node("ReduceSum", ["w", "axes"], ["e"], keepdims=0)],
         [x], [e], {"mu": MU, "half_inv_var": 0.5 / VAR, "axes": np.array([1], np.int64)}, HERE / "energy.onnx")
    (HERE / "manifest.json").write_text(json.dumps({
        "kind": "energy", "graphs": {"score": "score.onnx", "energy": "energy.onnx"}, "event_shape": [2],
        "noise_levels": [2.0, 1.0, 0.5, 0.25, 0.1], "step_size": 0.005, "steps_per_level": 200,
        "sigma_input": "sigma"}, indent=2) + "\n")


if __name__ == "__main__":
    main()
