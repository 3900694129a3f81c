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
      int reads = 0;
      for (int32_t read : *op.inputs()) reads += read == input;
      PlannedBuffer& in = buffers[input];
      const PlannedBuffer& out = buffers[output];
      const int32_t at = static_cast<int32_t>(step);
      // Constants and state outputs have size 0 here; a graph input, output
      // or state input must keep its bytes.
      const bool float32 = tensors->Get(static_cast<uint32_t>(input))->dtype() == format::DType::Float32 &&
                           tensors->Get(static_cast<uint32_t>(output))->dtype() == format::DType::Float32;
      const bool permitted =
          float32 && reads == 1 && in.size != 0 && in.size == out.size &&
          offsets->Get(static_cast<uint32_t>(input)) == offsets->Get(static_cast<uint32_t>(output)) &&
          in.first_use < at && in.last_use == at && out.first_use == at && !listed(graph.inputs(), input) &&
          !listed(graph.outputs(), input) && !listed(graph.state(), input) && !listed(graph.state(), output);
      if (permitted) {
        in.last_use = at - 1;
        break;
      }
    }
  }
}

}  // namespace edgegen
