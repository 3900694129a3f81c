// FullyConnected -> Add(constant [N]) -> one FullyConnected with that bias.
// PyTorch exports nn.Linear on a 3-D input ([batch, time, features]: every
// transformer and conformer layer) as MatMul + Add; the separate Add was a
// whole extra pass over the output (3% of a conformer layer's time), and it
// kept a following activation from fusing into the product.
#include "converter/constant_data.h"
#include "converter/passes/passes.h"

namespace edgegen::converter {
namespace {

bool float_constant_id(const IrGraph& graph, int id) {
  return id >= 0 && graph.tensors[static_cast<size_t>(id)].is_constant &&
         graph.tensors[static_cast<size_t>(id)].dtype == DType::kFloat32;
}

// A constant that adds one value per output column to a [..., N] product:
// shape [N], or [1, ..., 1, N] of at most the product's rank.
bool per_column(const IrTensor& constant, const IrTensor& product) {
  const std::vector<int64_t>& c = constant.shape;
  if (c.empty() || product.shape.empty() || c.size() > product.shape.size() || c.back() != product.shape.back())
    return false;
  for (size_t d = 0; d + 1 < c.size(); ++d)
    if (c[d] != 1) return false;
  return true;
}

}  // namespace

void fold_bias_add(IrGraph& graph) {
  std::vector<int> consumers = graph.consumer_counts();
  std::vector<int> producer_of = graph.producers();
  std::vector<bool> removed(graph.ops.size(), false);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    IrOp& add = graph.ops[i];
    if (add.opcode != OpCode::kAdd || add.activation.kind != ActivationKind::kNone || add.inputs.size() != 2) continue;
    for (int side = 0; side < 2; ++side) {
      const int product = add.inputs[static_cast<size_t>(side)], constant = add.inputs[static_cast<size_t>(1 - side)];
      const int p = product >= 0 ? producer_of[static_cast<size_t>(product)] : -1;
      if (p < 0 || removed[static_cast<size_t>(p)] || !float_constant_id(graph, constant)) continue;
      IrOp& fc = graph.ops[static_cast<size_t>(p)];
      if (fc.opcode != OpCode::kFullyConnected || fc.activation.kind != ActivationKind::kNone) continue;
      if (consumers[static_cast<size_t>(product)] != 1 || graph.is_graph_output(product)) continue;
      const IrTensor& out = graph.tensors[static_cast<size_t>(product)];
      if (out.dtype != DType::kFloat32 || !per_column(graph.tensors[static_cast<size_t>(constant)], out)) continue;
      if (graph.tensors[static_cast<size_t>(add.outputs[0])].shape != out.shape) continue;
      const int bias_id = fc.inputs.size() > 2 ? fc.inputs[2] : -1;
      if (bias_id >= 0 && !float_constant_id(graph, bias_id)) continue;
      std::vector<float> bias = read_floats(graph.tensors[static_cast<size_t>(constant)]);
      if (bias_id >= 0) {
        const std::vector<float> existing = read_floats(graph.tensors[static_cast<size_t>(bias_id)]);
        for (size_t c = 0; c < bias.size(); ++c) bias[c] += existing[c];
      }
      // A new tensor: the constant may be shared with other operators.
      const int64_t columns = static_cast<int64_t>(bias.size());
      graph.tensors.push_back(
          make_float_constant(graph.tensors[static_cast<size_t>(constant)].name + "/bias", {columns}, bias));
      if (fc.inputs.size() < 3) fc.inputs.resize(3, -1);
      fc.inputs[2] = static_cast<int>(graph.tensors.size()) - 1;
      fc.outputs[0] = add.outputs[0];
      producer_of[static_cast<size_t>(add.outputs[0])] = p;
      removed[i] = true;
      break;
    }
  }
  std::vector<IrOp> ops;
  for (size_t i = 0; i < graph.ops.size(); ++i)
    if (!removed[i]) ops.push_back(std::move(graph.ops[i]));
  graph.ops = std::move(ops);
}

}  // namespace edgegen::converter
