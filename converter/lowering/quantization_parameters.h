// The scales and zero points of ONNX's quantized ops (QuantizeLinear,
// DequantizeLinear, QLinearConv, QLinearMatMul, ConvInteger,
// MatMulInteger), read as written and attached to the converter's tensors:
// an edgegen tensor carries its own quantization, so they must be constants.
#pragma once

#include <string>

#include "converter/lowering/node_context.h"

namespace edgegen::converter {

// Reads the scale (input `scale_index`, -1: none, scale 1 as in
// ConvInteger) and zero point (input `zero_point_index`, optional: 0) of a
// tensor of `shape` quantized to `dtype`, one pair per tensor or one per
// slice along `axis`. Fails naming `what` when one is computed at run
// time, a scale is zero, negative, NaN, infinite or denormal, a zero point
// is outside `dtype` (int32: must be 0), or the arrays' lengths do not
// match the axis.
IrQuantization read_quantization(const NodeContext& node, int scale_index, int zero_point_index, DType dtype,
                                 const std::vector<int64_t>& shape, int64_t axis, const std::string& what);

// The dtype a quantized op's zero point input declares (uint8 when absent).
DType zero_point_dtype(const NodeContext& node, int zero_point_index);

// `id` with quantization `quant`: the tensor itself when it has none yet (it
// takes `quant`) or the same one; otherwise a copy that carries `quant`.
int with_quantization(NodeContext& node, int id, const IrQuantization& quant);

// A 2-D constant of 1-byte elements, transposed; a per-axis quantization
// follows its axis.
IrTensor transposed_byte_constant(const IrTensor& tensor);

// The DequantizeLinear op that produces `id` from a constant int8/uint8
// tensor (a quantized weight), or nullptr.
const IrOp* dequantized_constant(const IrGraph& graph, int id);

}  // namespace edgegen::converter
