// Calling the runtime's reference kernels from the converter, so each op's
// semantics live in exactly one place: `infer` gives shape inference,
// `eval` on constant inputs gives constant folding.
#pragma once

#include <vector>

#include "converter/ir.h"

namespace edgegen::converter {

// Runs the kernel's infer for `op` on `inputs` (one per op input, null for an
// absent optional input; constants carry their data). Returns the outputs'
// names (from `output_names`), dtypes and shapes, without data. Throws
// ConversionError with the kernel's message when infer rejects the op.
// `declared_outputs` (optional, one per output) are the outputs as the graph
// records them: their quantization is what quantized kernels check and use.
std::vector<IrTensor> infer_op(const IrOp& op, const std::vector<const IrTensor*>& inputs,
                               const std::vector<std::string>& output_names,
                               const std::vector<const IrTensor*>& declared_outputs = {});

// Runs infer, then eval, on inputs that are all constants. The returned
// outputs are constants.
std::vector<IrTensor> evaluate_op(const IrOp& op, const std::vector<const IrTensor*>& inputs,
                                  const std::vector<std::string>& output_names);

}  // namespace edgegen::converter
