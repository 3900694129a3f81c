#include "core/in_place.h"

#include "edgegen_generated.h"

namespace edgegen {
namespace {

bool listed(const flatbuffers::Vector<int32_t>* tensors, int32_t tensor) {
  if (tensors == nullptr) return false;
  for (int32_t t : *tensors)
    if (t == tensor) return true;
  return false;
}

}  // namespace

void end_inputs_of_in_place_ops(const format::Graph& graph, PlannedBuffer* buffers) {
  const auto* ops = graph.operators();
  const auto* offsets = graph.plan()->offsets();
  const auto* tensors = graph.tensors();
  for (uint32_t step = 0; step < ops->size(); ++step) {
    const format::Operator& op = *ops->Get(step);
    if (op.outputs()->size() == 0) continue;
    const int32_t output = op.outputs()->Get(0);
    const uint32_t operands = static_cast<uint32_t>(in_place_operands(static_cast<OpCode>(op.opcode())));
    for (uint32_t k = 0; k < operands && k < op.inputs()->size(); ++k) {
      const int32_t input = op.inputs()->Get(k);
      if (input < 0 || input == output) continue;
      PlannedBuffer& in = buffers[input];
      const format::Tensor& in_tensor = *tensors->Get(static_cast<uint32_t>(input));
      InPlacePair pair;
      pair.both_float32 = in_tensor.dtype() == format::DType::Float32 &&
                          tensors->Get(static_cast<uint32_t>(output))->dtype() == format::DType::Float32;
      pair.input_is_activation = in_tensor.buffer() == 0;
      pair.input_kept = listed(graph.inputs(), input) || listed(graph.outputs(), input) || listed(graph.state(), input);
      pair.output_is_state = listed(graph.state(), output);
      for (int32_t read : *op.inputs()) pair.reads_by_op += read == input;
      pair.input_bytes = in.size;
      pair.output_bytes = buffers[output].size;
      pair.step = static_cast<int32_t>(step);
      pair.input_first_use = in.first_use;
      pair.input_last_use = in.last_use;
      pair.output_first_use = buffers[output].first_use;
      // And the plan must have put the output exactly on the input.
      const bool permitted =
          may_write_on_input(pair) &&
          offsets->Get(static_cast<uint32_t>(input)) == offsets->Get(static_cast<uint32_t>(output));
      if (permitted) {
        in.last_use = pair.step - 1;
        break;
      }
    }
  }
}

}  // namespace edgegen
