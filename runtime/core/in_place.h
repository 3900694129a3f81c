// Operators whose output may share its input's bytes.
//
// An attention's Softmax reads a score matrix and writes one of the same
// size (at 64x64 latents, 512 MiB each); with both live at once the plan
// holds two. An operator listed here computes correctly when its output is
// its input (every backend's kernel reads each row before writing it), so
// the converter may plan the output on the input's bytes when:
//   - the op is listed below and its input 0 and output 0 have equal sizes;
//   - the input is an activation (not a constant, a graph input, a graph
//     output or persistent state), read by no operator after this one and
//     read by this one once;
//   - the output is first written by this op and is not persistent state.
// The runtime's plan check (session.cc) accepts an overlap only for such a
// pair at the same offset: the input's lifetime then ends the step before
// the op and the output's starts at it, and every other overlap is refused.
#pragma once

#include "core/memory_planner.h"
#include "ops/registry.h"

namespace edgegen {

namespace format {
struct Graph;
}

inline bool op_computes_in_place(OpCode opcode) {
  switch (opcode) {
    case OpCode::kSoftmax:
    case OpCode::kLogSoftmax:
      return true;
    default:
      return false;
  }
}

// For the plan check: `buffers` holds every tensor's lifetime and offset
// (session.cc's compute_lifetimes). Each in-place pair the rule above
// permits and the plan places at one offset gets its input's lifetime ended
// the step before the op, so check_plan sees no overlap there; any other
// overlap stays for check_plan to refuse. Allocates nothing.
void end_inputs_of_in_place_ops(const format::Graph& graph, PlannedBuffer* buffers);

}  // namespace edgegen
