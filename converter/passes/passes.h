// Optimization passes over an IrGraph, run in this order by the converter.
// Each keeps the graph's results identical (up to float rounding of folded
// weights) and leaves dead tensors for eliminate_dead_code to remove.
#pragma once

#include "converter/ir.h"

namespace edgegen::converter {

// Reshape [N, G, -1] -> InstanceNorm(ones, zeros) -> Reshape back
// (-> Mul gamma -> Add beta), as PyTorch exports GroupNorm, -> one GroupNorm.
void recognize_group_norm(IrGraph& graph);

// BatchNorm whose input comes only from a Conv2d / ConvTranspose2d /
// FullyConnected with constant weights -> scaled weights and bias.
void fold_batch_norm(IrGraph& graph);

// FullyConnected (no activation) -> Add of a per-column constant ([N] or
// [1, ..., N]) -> the FullyConnected with that bias (added to its own).
void fold_bias_add(IrGraph& graph);

// Sigmoid(x) * x -> Silu(x), HardSigmoid(x; 1/6, 0.5) * x -> HardSwish(x);
// then Relu / LeakyRelu / Clip / Sigmoid / Tanh /
// Silu after a Conv2d / ConvTranspose2d / FullyConnected / BatchNorm /
// Add / Sub / Mul / Div -> the producer's fused activation.
void fuse_activations(IrGraph& graph);

// DequantizeLinear -> Conv2d / FullyConnected / MatMul -> QuantizeLinear
// chains of QDQ models -> the quantized op with the written scales
// (fold_qdq.cc); then the DequantizeLinears of constant weights that are
// left (feeding float ops) -> float constants.
void fold_quantize_dequantize(IrGraph& graph);
void fold_dequantized_weights(IrGraph& graph);

// uint8 quantized tensors -> int8 with zero points lowered by 128, where
// every op touching them is zero-point generic and the model's interface
// does not change (uint8_to_int8.cc): exact, and it puts PyTorch's and ONNX
// Runtime's uint8 activations on the int8 fast path.
void shift_uint8_to_int8(IrGraph& graph);

// Removes operators whose outputs nothing needs and tensors nothing refers
// to, and renumbers the rest.
void eliminate_dead_code(IrGraph& graph);

}  // namespace edgegen::converter
