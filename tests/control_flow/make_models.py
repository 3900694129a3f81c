"""ONNX If on a run-time condition (issue 12): models built with onnx.helper,
expected outputs computed here with NumPy. Run with a Python that has onnx
and numpy (here: /usr/bin/python3 make_models.py); nothing is trained.

if_model.onnx      y = If(ReduceSum(x) > 0,
                          then: MatMul(Relu(MatMul(x, w1)), w2) + b     (w1, w2, b outer-scope initializers)
                          else: MatMul(Sigmoid(MatMul(Tanh(x), v1)), v2) * s - 0.5   (v1, v2, s: the else branch's))
                   x, y: [1, 8]; the then branch is the larger (a [1, 256] hidden layer, the else one [1, 32]).
then_only.onnx     the then branch alone, else_only.onnx the else branch alone: the If model's
                   arena is the larger of theirs (plus x, which stays live for the branch not yet run).
nested_if.onnx     y = If(ReduceSum(x) > 0, then: If(ReduceMax(x) > 1, x * 3, x + 10), else: x - 2)
mismatched.onnx    an If whose branches give [1, 8] and [1, 4]: refused at convert.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(12)
w1 = rng.standard_normal((8, 256)).astype(np.float32) * 0.3
w2 = rng.standard_normal((256, 8)).astype(np.float32) * 0.1
v1 = rng.standard_normal((8, 32)).astype(np.float32) * 0.5
v2 = rng.standard_normal((32, 8)).astype(np.float32) * 0.5
b = rng.standard_normal((8,)).astype(np.float32)
s = np.float32(1.5)

X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])


def out(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def condition_nodes(prefix, reduce, threshold):
    """cond = reduce(x) > threshold, a bool scalar computed at run time."""
    return [
        helper.make_node(reduce, ["x"], [prefix + "_r"], keepdims=0),
        helper.make_node("Greater", [prefix + "_r", prefix + "_t"], [prefix]),
    ], [numpy_helper.from_array(np.array(threshold, dtype=np.float32), prefix + "_t")]


def then_nodes(result):
    return [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("MatMul", ["hr", "w2"], ["o"]),
        helper.make_node("Add", ["o", "b"], [result]),
    ]


def else_nodes(result):
    return [
        helper.make_node("Tanh", ["x"], ["t"]),
        helper.make_node("MatMul", ["t", "v1"], ["g"]),
        helper.make_node("Sigmoid", ["g"], ["gs"]),
        helper.make_node("MatMul", ["gs", "v2"], ["e"]),
        helper.make_node("Mul", ["e", "s"], ["es"]),
        helper.make_node("Sub", ["es", "half"], [result]),
    ]


def else_initializers():
    return [numpy_helper.from_array(v1, "v1"), numpy_helper.from_array(v2, "v2"), numpy_helper.from_array(np.array(s), "s"),
            numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half")]


def save(graph, name):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_models.py")
    onnx.checker.check_model(model)
    onnx.save(model, name)


def if_model():
    cond_nodes, cond_inits = condition_nodes("cond", "ReduceSum", 0.0)
    then_g = helper.make_graph(then_nodes("then_y"), "then", [], [out("then_y", [1, 8])])
    else_g = helper.make_graph(else_nodes("else_y"), "else", [], [out("else_y", [1, 8])], else_initializers())
    node = helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)
    inits = cond_inits + [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                          numpy_helper.from_array(b, "b")]
    save(helper.make_graph(cond_nodes + [node], "if_model", [X], [Y], inits), "if_model.onnx")
    save(helper.make_graph([n for n in then_nodes("y")], "then_only", [X], [Y],
                           [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                            numpy_helper.from_array(b, "b")]), "then_only.onnx")
    save(helper.make_graph(else_nodes("y"), "else_only", [X], [Y], else_initializers()), "else_only.onnx")


def if_reference(x):
    if x.sum() > 0:
        return np.maximum(x @ w1, 0) @ w2 + b
    return (1 / (1 + np.exp(-(np.tanh(x) @ v1)))) @ v2 * s - np.float32(0.5)


def nested_if():
    outer_nodes, outer_inits = condition_nodes("outer", "ReduceSum", 0.0)
    inner_nodes, inner_inits = condition_nodes("inner", "ReduceMax", 1.0)
    inner_then = helper.make_graph([helper.make_node("Mul", ["x", "three"], ["it_y"])], "inner_then", [],
                                   [out("it_y", [1, 8])], [numpy_helper.from_array(np.array(3.0, np.float32), "three")])
    inner_else = helper.make_graph([helper.make_node("Add", ["x", "ten"], ["ie_y"])], "inner_else", [],
                                   [out("ie_y", [1, 8])], [numpy_helper.from_array(np.array(10.0, np.float32), "ten")])
    outer_then = helper.make_graph(
        inner_nodes + [helper.make_node("If", ["inner"], ["ot_y"], name="inner_if", then_branch=inner_then,
                                        else_branch=inner_else)],
        "outer_then", [], [out("ot_y", [1, 8])], inner_inits)
    outer_else = helper.make_graph([helper.make_node("Sub", ["x", "two"], ["oe_y"])], "outer_else", [],
                                   [out("oe_y", [1, 8])], [numpy_helper.from_array(np.array(2.0, np.float32), "two")])
    node = helper.make_node("If", ["outer"], ["y"], name="outer_if", then_branch=outer_then, else_branch=outer_else)
    save(helper.make_graph(outer_nodes + [node], "nested_if", [X], [Y], outer_inits), "nested_if.onnx")


def nested_reference(x):
    if x.sum() > 0:
        return x * 3 if x.max() > 1 else x + 10
    return x - 2


def mismatched():
    cond_nodes, cond_inits = condition_nodes("cond", "ReduceSum", 0.0)
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["then_y"])], "then", [], [out("then_y", [1, 8])])
    else_g = helper.make_graph(
        [helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["else_y"])], "else", [], [out("else_y", [1, 4])],
        [numpy_helper.from_array(np.array([0], np.int64), "starts"), numpy_helper.from_array(np.array([4], np.int64), "ends"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")])
    node = helper.make_node("If", ["cond"], ["y"], name="mismatched_if", then_branch=then_g, else_branch=else_g)
    save(helper.make_graph(cond_nodes + [node], "mismatched", [X], [out("y", [1, "n"])], cond_inits), "mismatched.onnx")


if_model()
nested_if()
mismatched()
# Inputs that take each branch (and each inner branch of nested_if).
inputs = {
    "positive_big": np.linspace(-0.5, 2.0, 8, dtype=np.float32).reshape(1, 8),    # sum > 0, max > 1
    "positive_small": np.full((1, 8), 0.25, dtype=np.float32),                  # sum > 0, max <= 1
    "negative": np.linspace(-2.0, 0.5, 8, dtype=np.float32).reshape(1, 8),      # sum < 0
}
for name, x in inputs.items():
    np.save(f"x_{name}.npy", x)
    np.save(f"if_model_{name}.npy", if_reference(x).astype(np.float32))
    np.save(f"nested_if_{name}.npy", nested_reference(x).astype(np.float32))
print("if_model, then_only, else_only, nested_if, mismatched")
