// The activation memory plan of one graph, computed with the runtime's own
// planner (runtime/core/memory_planner.h) so the runtime's check agrees.
//
// Lifetimes, in operator steps 0..n-1 (the runtime recomputes them the same
// way): an activation produced by op p lives [p, last op reading it]; a graph
// input lives from 0; a graph output lives to n-1; a tensor nothing reads
// lives [p, p]. Constants are not planned (offset 0).
//
// In place: the output of a Softmax, a unary or a binary element-wise op
// (runtime/core/in_place.h lists the ops and the rule) whose (full-size)
// input no later op reads is planned on that input's bytes, one buffer live from the input's
// first step to the output's last. An attention's score matrix is then held
// once, not twice.
//
// Persistent state (graph.state_pairs, a token decoder's KV cache): each
// pair's input is placed first, from offset 0 in pair order, live for the
// whole graph, and its output on the same bytes; everything else is planned
// above them. So graphs with the same state (a step and a prefill graph)
// place it at the same offsets, and the state survives every run of either.
// Before planning, check_in_place verifies that updating the input in place
// computes what the graph says.
#pragma once

#include <cstdint>
#include <vector>

#include "converter/ir.h"

namespace edgegen::converter {

constexpr uint64_t kArenaAlignment = 64;

struct GraphPlan {
  uint64_t arena_bytes = 0;
  uint64_t lower_bound_bytes = 0;
  std::vector<uint64_t> offsets;  // one per tensor; 0 for constants
};

// Plans `graph`; throws ConversionError if the runtime's check_plan would
// reject the result (a bug).
GraphPlan plan_graph_memory(const IrGraph& graph);

// Throws ConversionError naming the tensors unless every state pair of
// `graph` can be updated in place: the output is produced by a ScatterND or
// ScatterElements whose data input is the state input, or by a Where whose
// x or y input is the state input (of the output's shape), and no operator
// after that one reads the state input.
void check_in_place(const IrGraph& graph);

// The bytes the state of `graph` occupies at the bottom of its plan.
uint64_t state_bytes(const IrGraph& graph);

}  // namespace edgegen::converter
