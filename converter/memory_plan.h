// The activation memory plan of one graph, computed with the runtime's own
// planner (runtime/core/memory_planner.h) so the runtime's check agrees.
//
// Lifetimes, in operator steps 0..n-1 (the runtime recomputes them the same
// way): an activation produced by op p lives [p, last op reading it]; a graph
// input lives from 0; a graph output lives to n-1; a tensor nothing reads
// lives [p, p]. Constants are not planned (offset 0).
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

}  // namespace edgegen::converter
