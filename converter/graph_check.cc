#include "converter/graph_check.h"

#include "converter/converter.h"
#include "converter/kernel_call.h"

namespace edgegen::converter {

void check_graph(const IrGraph& graph) {
  std::vector<bool> available(graph.tensors.size(), false);
  for (size_t i = 0; i < graph.tensors.size(); ++i) available[i] = graph.tensors[i].is_constant;
  for (int input : graph.inputs) available[static_cast<size_t>(input)] = true;
  for (size_t step = 0; step < graph.ops.size(); ++step) {
    const IrOp& op = graph.ops[step];
    std::string where = "graph '" + graph.name + "', operator #" + std::to_string(step) + " (" +
                        op_name(static_cast<uint32_t>(op.opcode)) + " '" + op.name + "')";
    std::vector<const IrTensor*> inputs;
    for (int input : op.inputs) {
      if (input >= 0 && !available[static_cast<size_t>(input)])
        throw ConversionError("internal: " + where + " reads a tensor before it is written");
      inputs.push_back(input >= 0 ? &graph.tensors[static_cast<size_t>(input)] : nullptr);
    }
    std::vector<const IrTensor*> declared;
    for (int output : op.outputs) declared.push_back(&graph.tensors[static_cast<size_t>(output)]);
    std::vector<IrTensor> inferred;
    try {
      inferred = infer_op(op, inputs, {}, declared);
    } catch (const ConversionError& error) {
      throw ConversionError("internal: " + where + ": " + error.what());
    }
    for (size_t k = 0; k < op.outputs.size(); ++k) {
      const IrTensor& recorded = graph.tensors[static_cast<size_t>(op.outputs[k])];
      if (recorded.is_constant || inferred[k].shape != recorded.shape || inferred[k].dtype != recorded.dtype)
        throw ConversionError("internal: " + where + " output '" + recorded.name + "' is recorded as " +
                              shape_to_string(recorded.shape) + " but infers to " + shape_to_string(inferred[k].shape));
      available[static_cast<size_t>(op.outputs[k])] = true;
    }
  }
  for (int output : graph.outputs)
    if (!available[static_cast<size_t>(output)]) throw ConversionError("internal: graph output '" + graph.tensors[static_cast<size_t>(output)].name + "' is never written");
}

}  // namespace edgegen::converter
