// Inline control flow: an ONNX If whose condition is computed at run time
// is stored as two operator ranges between markers (runtime/ops/op_list.inc):
//
//   ... If(cond; first_when, E)  [first branch]  Else(; N)  [second branch]  EndIf  ...
//        index I                                 index E                    index N
//
// At If, the first branch runs when the condition's truth is `first_when`;
// otherwise the loop goes on after Else (E + 1). Reaching Else means the
// first branch ran: the loop goes on after EndIf (N + 1). EndIf does nothing.
// Both branches end by writing the If's outputs (the same tensors), so a
// tensor may have one writer per branch.
//
// The memory plan stays linear: a branch's own tensors are dead before the
// other branch's are born, so the two branches share arena bytes and the
// arena holds the larger one. A tensor's lifetime runs from its first writer
// to its last reader or writer, whichever is later (core/memory_planner.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/op_state.h"
#include "edgegen/status.h"
#include "ops/registry.h"

namespace edgegen {

namespace format {
struct Graph;
}

inline bool is_control_op(uint32_t opcode) {
  return opcode == static_cast<uint32_t>(OpCode::kIf) || opcode == static_cast<uint32_t>(OpCode::kElse) ||
         opcode == static_cast<uint32_t>(OpCode::kEndIf);
}

// Whether a one-element condition (bool or numeric, checked by If's infer) is true.
bool condition_is_true(const Tensor& condition);

// The operator to run after control operator `index` (verified at load).
inline size_t next_after_control(const OpState& op, size_t index) {
  const KernelContext& context = op.context;
  switch (static_cast<OpCode>(context.opcode)) {
    case OpCode::kIf:
      if (condition_is_true(context.input(0)) == (context.int_param(0) != 0)) return index + 1;
      return static_cast<size_t>(context.int_param(1)) + 1;
    case OpCode::kElse: return static_cast<size_t>(context.int_param(0)) + 1;
    default: return index + 1;  // EndIf
  }
}

// Load-time check of an untrusted graph's markers: every If's int_params
// name its own Else (the next Else at the same nesting depth), every Else's
// its own EndIf, and every marker belongs to exactly one If. So every jump
// is forward and inside the graph. One pass over the operators with a
// stack of the open Ifs (at most 64 deep; deeper is refused), no heap.
Status verify_control_flow(const format::Graph& graph);

// Whether the graph has any If (then a tensor may have one writer per branch).
bool has_control_flow(const format::Graph& graph);

}  // namespace edgegen
