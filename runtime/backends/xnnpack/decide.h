// What runs each operator on the XNNPACK backend (XNNPACK, our own kernels
// or the reference kernels) and in which layout.
#pragma once

#include "backends/xnnpack/accelerated_op.h"
#include "backends/xnnpack/op_view.h"

namespace edgegen {
namespace xnnpack {

struct Decision {
  Executor executor = Executor::kReference;
  bool nhwc = false;
};

// Decides for `v`, given the layouts its activation inputs naturally come in.
Decision decide(const OpView& v, const Layout* natural);

// The shapes our own kernels run on (they fill `acc` when it is given;
// false: the op is left to the reference kernel).
bool matmul_batches(const OpView& v, AcceleratedOp* acc);
bool layer_norm_rows(const OpView& v, AcceleratedOp* acc);
bool reduce_run(const OpView& v, AcceleratedOp* acc);
bool transpose_batches(const OpView& v, AcceleratedOp* acc);

}  // namespace xnnpack
}  // namespace edgegen
