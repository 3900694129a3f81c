#include "converter/ir.h"

#include <algorithm>

#include "converter/converter.h"

namespace edgegen::converter {

int64_t element_count(const std::vector<int64_t>& shape) {
  // Shapes come from untrusted ONNX files: a count that overflows is refused, not wrapped.
  int64_t count = 1;
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(count, dim, &count) || count > kMaxTensorElements)
      throw ConversionError("shape " + shape_to_string(shape) + " has more than 2^40 elements");
  return count;
}

int64_t IrTensor::num_elements() const { return element_count(shape); }

void IrTensor::allocate_data() {
  const size_t size = bytes();
  if (size > kMaxConstantBytes)
    throw ConversionError("a constant of shape " + shape_to_string(shape) + " would take " + std::to_string(size) +
                          " bytes, more than the converter's limit of " + std::to_string(kMaxConstantBytes >> 20) +
                          " MiB");
  data.assign(size, 0);
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::vector<int> IrGraph::consumer_counts() const {
  std::vector<int> counts(tensors.size(), 0);
  for (const IrOp& op : ops)
    for (int input : op.inputs)
      if (input >= 0) ++counts[input];
  return counts;
}

bool IrGraph::is_graph_output(int tensor) const {
  return std::find(outputs.begin(), outputs.end(), tensor) != outputs.end();
}

bool IrGraph::is_graph_input(int tensor) const {
  return std::find(inputs.begin(), inputs.end(), tensor) != inputs.end();
}

std::vector<int> IrGraph::producers() const {
  std::vector<int> producer(tensors.size(), -1);
  for (size_t i = 0; i < ops.size(); ++i)
    for (int output : ops[i].outputs) producer[output] = static_cast<int>(i);
  return producer;
}

}  // namespace edgegen::converter
