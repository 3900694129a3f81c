// Floating-point operations of a graph, counted from tensor shapes, for
// `edgegen bench` (achieved GFLOP/s) and anything else that wants a cost.
//
// Only the operators that dominate generative models are counted: Conv2d,
// ConvTranspose2d, FullyConnected, MatMul and the recurrent layers, at 2
// FLOPs per multiply-add.
// Bias additions, fused activations and every other operator count 0, so
// the GFLOP/s derived from these counts are slightly conservative. This is
// the usual convention (the same as XNNPACK's and PyTorch's benchmarks).
#pragma once

#include <cstdint>
#include <vector>

#include "edgegen/model.h"

namespace edgegen::cli {

// The shapes one operator's count depends on.
struct OpShapes {
  uint32_t opcode = 0;                       // an id from op_list.inc
  std::vector<std::vector<int64_t>> inputs;  // absent optional inputs: empty
  std::vector<std::vector<int64_t>> outputs;
};

// FLOPs of one operator:
//   Conv2d          2 * |output| * prod(weight dims 1..)   weight [O, C/g, kH, kW] or [O, C/g, kL]
//   ConvTranspose2d 2 * |input|  * prod(weight dims 1..)   weight [C, O/g, kH, kW] or [C, O/g, kL]
//   FullyConnected  2 * |output| * K                       x [..., K]
//   MatMul          2 * |output| * K                       a [..., M, K] (or [K])
//   LSTM, GRU, RNN  2 * seq * batch * (|W| + |R|)          x [seq, batch, input]
// and 0 for every other operator or a shape that does not fit.
uint64_t op_flops(const OpShapes& op);

// FLOPs of every operator of graph `graph_index` of a verified model, in
// execution order.
std::vector<uint64_t> graph_op_flops(const Model& model, size_t graph_index);

}  // namespace edgegen::cli
