// What the session keeps per operator: the reference kernel (always
// resolved: its infer has verified the op) and, when an accelerated backend
// runs the op or converts its operands' layout, that backend's state.
#pragma once

#include "ops/kernel.h"

namespace edgegen {

namespace xnnpack {
struct AcceleratedOp;
}

struct OpState {
  const Kernel* kernel = nullptr;
  KernelContext context;
  xnnpack::AcceleratedOp* accelerated = nullptr;  // in the arena; null: reference eval only
};

}  // namespace edgegen
