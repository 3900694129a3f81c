// The jump targets of an inline If's markers (runtime/core/control_flow.h).
// In the converter's IR the markers carry placeholders: the passes insert
// and remove operators, so an index would go stale. The writer fills them
// from the markers' nesting when it serializes the graph.
#pragma once

#include <cstdint>
#include <vector>

#include "converter/ir.h"

namespace edgegen::converter {

// Per operator: for an If the index of its Else, for an Else the index of
// its EndIf, -1 for every other operator. Throws ConversionError when the
// markers do not nest as If, Else, EndIf (a converter bug).
std::vector<int64_t> branch_targets(const IrGraph& graph);

// Whether the graph has an If on a run-time condition.
bool has_branches(const IrGraph& graph);

}  // namespace edgegen::converter
