// What runs each operator on the XNNPACK backend (XNNPACK, our own kernels
// or the reference kernels) and in which layout.
#pragma once

#include "backends/xnnpack/accelerated_op.h"
#include "backends/xnnpack/op_view.h"

namespace edgegen {
namespace xnnpack {

struct Decision {
  Executor executor = Executor::kReference;
  bool nhwc = false;       // it computes its float operands channels-last
  bool int8_nhwc = false;  // it writes its int8 output channels-last
};

// Per tensor: 1 when it is an int8/uint8 activation of rank 3 or 4 that every
// reader could take channels-last (a per-tensor DequantizeLinear, a
// Conv2d / ConvTranspose2d on the qgemm that reads it as its image, or a
// nearest Resize whose output is such a tensor too), and
// not a graph input or output. Layout conversions exist for float tensors
// only, so an int8 tensor is stored channels-last only where writer and
// readers all agree; `candidates` has one byte per tensor.
void int8_channels_last_candidates(const Model& model, const format::Graph& graph, uint8_t* candidates);

// Decides for `v`, given the layouts its activation inputs naturally come in
// and the int8 tensors that may be channels-last.
Decision decide(const OpView& v, const Layout* natural, const uint8_t* int8_candidates);

// The shapes our own kernels run on (they fill `acc` when it is given;
// false: the op is left to the reference kernel).
bool matmul_batches(const OpView& v, AcceleratedOp* acc);
bool layer_norm_rows(const OpView& v, AcceleratedOp* acc);
bool reduce_run(const OpView& v, AcceleratedOp* acc);
bool transpose_batches(const OpView& v, AcceleratedOp* acc);
// An int8 Add whose operands are each the output's shape (in its stored
// layout, `natural`; null: all channels-first), one value per channel or
// one value; the output channels-last when `y_nhwc`. Fills the shape and
// the operands' strides.
bool quantized_add_layout(const OpView& v, const Layout* natural, bool y_nhwc, AcceleratedOp* acc);

}  // namespace xnnpack
}  // namespace edgegen
