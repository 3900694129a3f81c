// A last check of a finished IrGraph, as the runtime's load will do it: every
// operator's kernel accepts its inputs and attributes and infers exactly the
// output shapes and dtypes recorded for it. Catches a pass that rewired
// something wrongly before a file is written.
#pragma once

#include "converter/ir.h"

namespace edgegen::converter {

// Throws ConversionError naming the operator on the first mismatch.
void check_graph(const IrGraph& graph);

}  // namespace edgegen::converter
