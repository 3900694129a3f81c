// The graph rewrite of static post-training quantization.
//
// Convolutions, transposed convolutions and fully connected layers with
// constant weights run in int8: weights symmetric per output channel, bias
// int32, activations asymmetric per tensor with the calibrated ranges. A
// QuantizeLinear is placed where a float tensor first feeds an int8 op, a
// DequantizeLinear where an int8 result feeds a float op or leaves the
// graph: chains of int8 ops (through Reshapes) stay int8 in between, so
// precision changes only at the boundaries. A GroupNorm (with its fused
// ReLU, Clip or SiLU) whose result an int8 op reads runs in int8 too:
// int8 in, int8 out, instead of dequantize, norm, activation, quantize.
// So does an Add of two activations (a residual connection, a timestep
// embedding) whose sum an int8 op reads, when one operand is int8 already.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "converter/ir.h"
#include "converter/quantize/calibration.h"

namespace edgegen::converter {

// Before calibration: a quantizable op whose fused activation the int8
// kernels cannot apply (Sigmoid, Tanh, SiLU; a leaky ReLU with alpha
// outside [0, 1]) gets it back as its own op, so that calibration sees the
// pre-activation tensor the int8 op will produce.
void split_float_activations(IrGraph& graph);

// The ops that quantize_graph would run in int8 (by index in graph.ops),
// given the names to keep in float32.
std::vector<size_t> quantizable_ops(const IrGraph& graph, const std::set<std::string>& keep_float);

// Rewrites `graph` with the ops in `quantize` (indices from quantizable_ops)
// in int8; `stats` are the graph's calibration statistics. Leaves dead
// tensors and ops for eliminate_dead_code.
void quantize_graph(IrGraph& graph, const std::vector<size_t>& quantize, const std::vector<TensorStatistics>& stats,
                    const QuantizeOptions& options);

// After dead code elimination: an int8 (or int32 bias) tensor whose float
// original is gone takes the original's name ("x/int8" -> "x"), so files
// and error messages use the model's own names, once.
void name_quantized_tensors_after_originals(IrGraph& graph);

}  // namespace edgegen::converter
