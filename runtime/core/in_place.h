// Operators whose output may share an input's bytes.
//
// An attention's Softmax reads a score matrix and writes one of the same
// size (at 64x64 latents, 512 MiB each), as does the Mul by 1/sqrt(d)
// before it; with input and output live at once the plan holds two. An
// operator listed here computes correctly when its output is one of its
// first in_place_operands inputs (every backend's kernel reads each element,
// or each row, before writing it), so the converter may plan the output on
// that input's bytes when:
//   - the input and output 0 are float32 of equal sizes (for a binary op:
//     the input is not the broadcast one);
//   - the input is an activation (not a constant, a graph input, a graph
//     output or persistent state), read by no operator after this one and
//     read by this one once;
//   - the output is first written by this op and is not persistent state.
// The runtime's plan check (session.cc) accepts an overlap only for such a
// pair at the same offset: the input's lifetime then ends the step before
// the op and the output's starts at it, and every other overlap is refused.
#pragma once

#include <cstdint>

#include "core/memory_planner.h"
#include "ops/registry.h"

namespace edgegen {

namespace format {
struct Graph;
}

// Unary element-wise (kernels/unary.cc, the XNNPACK backend's simd::unary):
// out[i] depends on in[i] alone. Not Identity, a copy of any dtype.
inline bool is_elementwise_unary(OpCode opcode) {
  switch (opcode) {
    case OpCode::kRelu: case OpCode::kLeakyRelu: case OpCode::kSigmoid: case OpCode::kTanh:
    case OpCode::kElu: case OpCode::kSoftplus: case OpCode::kExp: case OpCode::kLog:
    case OpCode::kSqrt: case OpCode::kNeg: case OpCode::kAbs: case OpCode::kClip:
    case OpCode::kSilu: case OpCode::kGelu: case OpCode::kSin: case OpCode::kCos:
    case OpCode::kErf: case OpCode::kReciprocal: case OpCode::kFloor: case OpCode::kCeil:
    case OpCode::kHardSigmoid: case OpCode::kHardSwish: case OpCode::kSign: case OpCode::kRound:
      return true;
    default:
      return false;
  }
}

// How many leading inputs of `opcode` may hold its output: 0 (none), 1 or 2.
inline int in_place_operands(OpCode opcode) {
  if (is_elementwise_unary(opcode)) return 1;
  switch (opcode) {
    case OpCode::kSoftmax:
    case OpCode::kLogSoftmax:
      return 1;
    // Binary element-wise with broadcasting (kernels/binary.cc, XNNPACK's
    // binary operators): out[i] reads the full-size operand at i alone.
    case OpCode::kAdd: case OpCode::kSub: case OpCode::kMul: case OpCode::kDiv:
    case OpCode::kMin: case OpCode::kMax:
      return 2;
    default:
      return 0;
  }
}

// What the rule asks of one (input, output) pair of an op listed above at
// `step`; the converter fills it from its IR, the runtime from the file, and
// both decide with may_write_on_input.
struct InPlacePair {
  bool both_float32 = false;
  bool input_is_activation = false;  // not a constant
  bool input_kept = false;           // a graph input, a graph output or a state input
  bool output_is_state = false;
  int reads_by_op = 0;               // how often the op lists the input
  uint64_t input_bytes = 0, output_bytes = 0;
  int32_t step = 0;
  int32_t input_first_use = 0, input_last_use = 0;  // as the planner computes lifetimes
  int32_t output_first_use = 0;
};

inline bool may_write_on_input(const InPlacePair& p) {
  return p.both_float32 && p.input_is_activation && !p.input_kept && !p.output_is_state && p.reads_by_op == 1 &&
         p.input_bytes == p.output_bytes && p.input_first_use < p.step && p.input_last_use == p.step &&
         p.output_first_use == p.step;
}

// For the plan check: `buffers` holds every tensor's lifetime and offset
// (session.cc's compute_lifetimes). Each in-place pair the rule above
// permits and the plan places at one offset gets its input's lifetime ended
// the step before the op, so check_plan sees no overlap there; any other
// overlap stays for check_plan to refuse. Allocates nothing.
void end_inputs_of_in_place_ops(const format::Graph& graph, PlannedBuffer* buffers);

}  // namespace edgegen
