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
  for (uint32_t step = 0; step < ops->size(); ++step) {
    const format::Operator& op = *ops->Get(step);
    if (!op_computes_in_place(static_cast<OpCode>(op.opcode())) || op.inputs()->size() == 0 ||
        op.outputs()->size() == 0)
      continue;
    const int32_t input = op.inputs()->Get(0), output = op.outputs()->Get(0);
    if (input < 0 || input == output) continue;
    int reads = 0;
    for (int32_t read : *op.inputs()) reads += read == input;
    PlannedBuffer& in = buffers[input];
    const PlannedBuffer& out = buffers[output];
    const int32_t at = static_cast<int32_t>(step);
    // Constants and state outputs have size 0 here; a graph input, output or
    // state input must keep its bytes.
    const bool permitted = reads == 1 && in.size != 0 && in.size == out.size &&
                           offsets->Get(static_cast<uint32_t>(input)) == offsets->Get(static_cast<uint32_t>(output)) &&
                           in.first_use < at && in.last_use == at && out.first_use == at &&
                           !listed(graph.inputs(), input) && !listed(graph.outputs(), input) &&
                           !listed(graph.state(), input) && !listed(graph.state(), output);
    if (permitted) in.last_use = at - 1;
  }
}

}  // namespace edgegen
