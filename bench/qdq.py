#!/usr/bin/python3
"""Quantize a float ONNX model to QDQ form with edgegen's calibration ranges.

  /usr/bin/python3 bench/qdq.py MODEL.onnx INFO.json OUT.onnx

INFO.json is `edgegen info MODEL_INT8.egm --json` of the same ONNX file
converted with --quantize int8, so ONNX Runtime runs the very activation
scales and zero points edgegen chose. The output is what ONNX Runtime's
quantize_static would emit (QOperator-free QDQ form):

- BatchNormalization after Conv/ConvTranspose is folded into its weights first;
- a Relu whose output edgegen quantized with zero point -128 (range [0, max])
  is dropped: the QuantizeLinear's saturation is the Relu, as ORT's quantizer does;
- every activation edgegen holds in int8 (`NAME/int8`, `NAME/pre_activation/int8`,
  or `NAME` itself where the float tensor is gone) gets QuantizeLinear ->
  DequantizeLinear with edgegen's scale and zero point;
- Conv, ConvTranspose and Gemm whose input is quantized get int8 symmetric
  per-output-channel weights (Conv axis 0, ConvTranspose axis 1, Gemm axis 0
  with transB=1) and an int32 bias of scale x_scale * w_scale[c], each behind a
  DequantizeLinear, so ORT can fuse the group into QLinearConv / QGemm.

Prints one JSON line: how many tensors got Q/DQ and which int8 tensors of
edgegen had no ONNX counterpart.
"""

import json
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def main():
    model_path, info_path, out_path = sys.argv[1:4]
    model = onnx.load(model_path)
    graph = model.graph
    info = json.load(open(info_path))
    act = {}  # edgegen's int8 activation tensor -> (scale, zero point)
    for g in info["graphs"]:
        for t in g["tensors"]:
            if t["dtype"] == "int8" and not t["constant"] and "quantization" in t:
                q = t["quantization"]
                name = t["name"]
                act[name[: -len("/int8")] if name.endswith("/int8") else name] = (q["scales"][0], q["zero_points"][0])

    inits = {i.name: i for i in graph.initializer}
    consts = {}
    for node in graph.node:  # Constant nodes as initializers (Reshape shapes etc.)
        if node.op_type == "Constant" and node.attribute[0].name == "value":
            consts[node.output[0]] = node.attribute[0].t

    def array(name):
        return numpy_helper.to_array(inits[name]) if name in inits else None

    def set_init(name, value):
        tensor = numpy_helper.from_array(value, name)
        if name in inits:
            inits[name].CopyFrom(tensor)
        else:
            graph.initializer.append(tensor)
            inits[name] = graph.initializer[-1]

    def consumers(name):
        return [n for n in graph.node if name in n.input]

    producer = lambda name: next((n for n in graph.node if name in n.output), None)

    # 1. BatchNormalization folded into the Conv/ConvTranspose before it.
    for bn in [n for n in graph.node if n.op_type == "BatchNormalization"]:
        conv = producer(bn.input[0])
        if conv is None or conv.op_type not in ("Conv", "ConvTranspose") or len(consumers(bn.input[0])) != 1:
            continue
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (array(x) for x in bn.input[1:5])
        w = array(conv.input[1])
        factor = gamma / np.sqrt(var + eps)
        groups = next((a.i for a in conv.attribute if a.name == "group"), 1)
        if conv.op_type == "Conv":
            w = w * factor.reshape((-1,) + (1,) * (w.ndim - 1))
        else:
            assert groups == 1, "grouped ConvTranspose"
            w = w * factor.reshape((1, -1) + (1,) * (w.ndim - 2))
        b = array(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else np.zeros_like(mean)
        b = (b - mean) * factor + beta
        conv_w_name = conv.input[1]
        set_init(conv_w_name + "_bn_folded", w.astype(np.float32))
        set_init(conv_w_name + "_bn_folded_bias", b.astype(np.float32))
        x_name = conv.input[0]
        del conv.input[:]
        conv.input.extend([x_name, conv_w_name + "_bn_folded", conv_w_name + "_bn_folded_bias"])
        conv.output[0] = bn.output[0]
        graph.node.remove(bn)

    # 2. Relu dropped where edgegen's int8 range starts at 0 after a quantized Conv/Gemm.
    for relu in [n for n in graph.node if n.op_type == "Relu"]:
        name = relu.output[0]
        p = producer(relu.input[0])
        if (name in act and act[name][1] == -128 and p is not None
                and p.op_type in ("Conv", "ConvTranspose", "Gemm") and len(consumers(relu.input[0])) == 1):
            p.output[0] = name
            graph.node.remove(relu)

    # 3. Where each edgegen int8 tensor lives in the ONNX graph.
    targets = {}
    missing = []
    for name, qp in act.items():
        onnx_name = name
        if name.endswith("/pre_activation"):
            p = producer(name[: -len("/pre_activation")])
            if p is None:
                missing.append(name)
                continue
            if p.op_type == "Mul":  # SiLU: x * Sigmoid(x)
                onnx_name = next(i for i in p.input if (producer(i) is None or producer(i).op_type != "Sigmoid"))
            else:
                onnx_name = p.input[0]
        if producer(onnx_name) is None and onnx_name not in [i.name for i in graph.input]:
            missing.append(name)
            continue
        targets[onnx_name] = qp

    # 4. Q -> DQ after each target; consumers read the DQ output.
    new_nodes = []
    for onnx_name, (scale, zp) in targets.items():
        safe = onnx_name.strip("/").replace("/", "_")
        s, z = f"{safe}_scale", f"{safe}_zero_point"
        set_init(s, np.array(scale, dtype=np.float32))
        set_init(z, np.array(zp, dtype=np.int8))
        for n in graph.node:
            for i, x in enumerate(n.input):
                if x == onnx_name:
                    n.input[i] = f"{safe}_dequantized"
        new_nodes.append(helper.make_node("QuantizeLinear", [onnx_name, s, z], [f"{safe}_quantized"], name=f"{safe}_Q"))
        new_nodes.append(helper.make_node("DequantizeLinear", [f"{safe}_quantized", s, z], [f"{safe}_dequantized"], name=f"{safe}_DQ"))

    # 5. Weights and biases of ops whose input is quantized.
    quantized_ops = 0
    for n in list(graph.node):
        if n.op_type not in ("Conv", "ConvTranspose", "Gemm") or not n.input[0].endswith("_dequantized"):
            continue
        x_scale = float(numpy_helper.to_array(inits[n.input[0][: -len("_dequantized")] + "_scale"]))
        w = array(n.input[1])
        if w is None:
            continue
        if n.op_type == "Gemm":
            trans_b = next((a.i for a in n.attribute if a.name == "transB"), 0)
            axis = 0 if trans_b else 1
        else:
            axis = 1 if n.op_type == "ConvTranspose" else 0
        reduce_axes = tuple(i for i in range(w.ndim) if i != axis)
        w_scale = np.maximum(np.abs(w).max(axis=reduce_axes), 1e-12) / 127.0
        shape = [1] * w.ndim
        shape[axis] = -1
        wq = np.clip(np.round(w / w_scale.reshape(shape)), -127, 127).astype(np.int8)
        base = n.input[1] + "_int8"
        set_init(base, wq)
        set_init(base + "_scale", w_scale.astype(np.float32))
        set_init(base + "_zero_point", np.zeros(len(w_scale), dtype=np.int8))
        new_nodes.append(helper.make_node("DequantizeLinear", [base, base + "_scale", base + "_zero_point"],
                                          [base + "_dequantized"], axis=axis, name=base + "_DQ"))
        n.input[1] = base + "_dequantized"
        if len(n.input) > 2 and n.input[2]:
            b = array(n.input[2])
            b_scale = (x_scale * w_scale).astype(np.float32)
            bq = np.round(b / b_scale).astype(np.int32)
            bbase = n.input[2] + "_int32"
            set_init(bbase, bq)
            set_init(bbase + "_scale", b_scale)
            set_init(bbase + "_zero_point", np.zeros(len(b_scale), dtype=np.int32))
            new_nodes.append(helper.make_node("DequantizeLinear", [bbase, bbase + "_scale", bbase + "_zero_point"],
                                              [bbase + "_dequantized"], axis=0, name=bbase + "_DQ"))
            n.input[2] = bbase + "_dequantized"
        quantized_ops += 1

    # Q/DQ nodes go right after their producers: append then sort topologically.
    nodes = list(graph.node) + new_nodes
    available = {i.name for i in graph.input} | set(inits) | {""}
    ordered = []
    while nodes:
        progress = False
        for n in list(nodes):
            if all(i in available for i in n.input):
                ordered.append(n)
                available.update(n.output)
                nodes.remove(n)
                progress = True
        if not progress:
            sys.exit(f"qdq: cannot order nodes, e.g. {nodes[0].op_type} {nodes[0].name} inputs {list(nodes[0].input)}")
    del graph.node[:]
    graph.node.extend(ordered)
    # Unused initializers (the float weights replaced) are dropped.
    used = {i for n in graph.node for i in n.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    if model.opset_import[0].version < 13:
        model.opset_import[0].version = 13
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    print(json.dumps({"qdq_tensors": len(targets), "quantized_weight_ops": quantized_ops, "unmapped": missing}))


if __name__ == "__main__":
    main()
