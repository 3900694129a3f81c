#include "converter/graph_builder.h"

#include "converter/kernel_call.h"

namespace edgegen::converter {

int GraphBuilder::add_tensor(IrTensor tensor) {
  graph_.tensors.push_back(std::move(tensor));
  return static_cast<int>(graph_.tensors.size()) - 1;
}

int GraphBuilder::add_input(const std::string& name, DType dtype, std::vector<int64_t> shape) {
  IrTensor tensor;
  tensor.name = name;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  int id = add_tensor(std::move(tensor));
  graph_.inputs.push_back(id);
  return id;
}

std::vector<int> GraphBuilder::emit(IrOp op, size_t num_outputs, const std::vector<std::string>& output_names,
                                    bool allow_folding) {
  std::vector<const IrTensor*> inputs;
  bool all_constant = true;
  for (int id : op.inputs) {
    inputs.push_back(id >= 0 ? &tensor(id) : nullptr);
    if (id >= 0 && !tensor(id).is_constant) all_constant = false;
  }
  op.outputs.assign(num_outputs, -1);
  std::vector<std::string> names = output_names;
  for (size_t i = names.size(); i < num_outputs; ++i) names.push_back(op.name + ":" + std::to_string(i));

  std::vector<IrTensor> results = allow_folding && all_constant ? evaluate_op(op, inputs, names)
                                                                : infer_op(op, inputs, names);
  std::vector<int> ids;
  for (IrTensor& result : results) ids.push_back(add_tensor(std::move(result)));
  if (!(allow_folding && all_constant)) {
    op.outputs = ids;
    graph_.ops.push_back(std::move(op));
  }
  return ids;
}

int GraphBuilder::emit1(IrOp op, const std::string& output_name, bool allow_folding) {
  return emit(std::move(op), 1, {output_name}, allow_folding).at(0);
}

}  // namespace edgegen::converter
