// Activations fused into the operator producing their input, so the
// intermediate tensor never reaches memory.
#include "converter/passes/passes.h"

namespace edgegen::converter {
namespace {

bool fusable_producer(OpCode opcode) {
  switch (opcode) {
    case OpCode::kConv2d:
    case OpCode::kConvTranspose2d:
    case OpCode::kFullyConnected:
    case OpCode::kBatchNorm:
    case OpCode::kGroupNorm:  // GroupNorm + SiLU / ReLU of UNets and decoders
    case OpCode::kAdd:
    case OpCode::kSub:
    case OpCode::kMul:
    case OpCode::kDiv: return true;
    default: return false;
  }
}

// The fused form of an activation op; kNone if it has none.
FusedActivation fused_form(const IrOp& op) {
  FusedActivation activation;
  switch (op.opcode) {
    case OpCode::kRelu: activation.kind = ActivationKind::kRelu; break;
    case OpCode::kSigmoid: activation.kind = ActivationKind::kSigmoid; break;
    case OpCode::kTanh: activation.kind = ActivationKind::kTanh; break;
    case OpCode::kSilu: activation.kind = ActivationKind::kSilu; break;
    case OpCode::kLeakyRelu:
      if (op.floats.size() != 1) break;
      activation.kind = ActivationKind::kLeakyRelu;
      activation.param0 = op.floats[0];
      break;
    case OpCode::kClip:
      if (op.floats.size() != 2) break;
      activation.kind = ActivationKind::kClip;
      activation.param0 = op.floats[0];
      activation.param1 = op.floats[1];
      break;
    default: break;
  }
  return activation;
}

void remove_marked(IrGraph& graph, const std::vector<bool>& removed) {
  std::vector<IrOp> ops;
  for (size_t i = 0; i < graph.ops.size(); ++i)
    if (!removed[i]) ops.push_back(std::move(graph.ops[i]));
  graph.ops = std::move(ops);
}

// The one-op form of x * gate(x): Sigmoid -> Silu, HardSigmoid with
// ONNX's HardSwish constants (alpha 1/6, beta 0.5, as PyTorch exports
// nn.Hardswish before opset 14) -> HardSwish. kIdentity when none.
OpCode gated_form(const IrOp& gate) {
  if (gate.activation.kind != ActivationKind::kNone) return OpCode::kIdentity;
  if (gate.opcode == OpCode::kSigmoid) return OpCode::kSilu;
  if (gate.opcode == OpCode::kHardSigmoid && gate.floats.size() == 2 && gate.floats[0] == 1.f / 6.f &&
      gate.floats[1] == 0.5f)
    return OpCode::kHardSwish;
  return OpCode::kIdentity;
}

// x * gate(x) -> one op (Silu, HardSwish) when the gate feeds only that Mul:
// one pass over memory instead of two.
void recognize_gated_units(IrGraph& graph) {
  std::vector<int> consumers = graph.consumer_counts();
  std::vector<int> producer_of = graph.producers();
  std::vector<bool> removed(graph.ops.size(), false);
  for (IrOp& mul : graph.ops) {
    if (mul.opcode != OpCode::kMul || mul.activation.kind != ActivationKind::kNone) continue;
    for (int side = 0; side < 2; ++side) {
      int gate = mul.inputs[static_cast<size_t>(side)], x = mul.inputs[static_cast<size_t>(1 - side)];
      int p = gate >= 0 ? producer_of[static_cast<size_t>(gate)] : -1;
      if (p < 0 || removed[static_cast<size_t>(p)]) continue;
      const IrOp& gate_op = graph.ops[static_cast<size_t>(p)];
      const OpCode fused = gated_form(gate_op);
      if (fused == OpCode::kIdentity) continue;
      if (gate_op.inputs[0] != x || consumers[static_cast<size_t>(gate)] != 1 || graph.is_graph_output(gate)) continue;
      if (graph.tensors[static_cast<size_t>(x)].shape != graph.tensors[static_cast<size_t>(mul.outputs[0])].shape) continue;
      removed[static_cast<size_t>(p)] = true;
      mul.opcode = fused;
      mul.inputs = {x};
      mul.floats.clear();
      break;
    }
  }
  remove_marked(graph, removed);
}

}  // namespace

void fuse_activations(IrGraph& graph) {
  recognize_gated_units(graph);
  std::vector<int> consumers = graph.consumer_counts();
  std::vector<int> producer_of = graph.producers();
  std::vector<bool> removed(graph.ops.size(), false);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    IrOp& activation_op = graph.ops[i];
    FusedActivation activation = fused_form(activation_op);
    if (activation.kind == ActivationKind::kNone || activation_op.activation.kind != ActivationKind::kNone) continue;
    int input = activation_op.inputs[0];
    int p = producer_of[static_cast<size_t>(input)];
    if (p < 0 || removed[static_cast<size_t>(p)]) continue;
    IrOp& producer = graph.ops[static_cast<size_t>(p)];
    if (!fusable_producer(producer.opcode) || producer.activation.kind != ActivationKind::kNone) continue;
    if (producer.outputs.size() != 1 || consumers[static_cast<size_t>(input)] != 1 || graph.is_graph_output(input)) continue;
    if (graph.tensors[static_cast<size_t>(input)].dtype != DType::kFloat32) continue;
    if (graph.tensors[static_cast<size_t>(input)].shape != graph.tensors[static_cast<size_t>(activation_op.outputs[0])].shape) continue;
    producer.activation = activation;
    producer.outputs[0] = activation_op.outputs[0];
    producer_of[static_cast<size_t>(activation_op.outputs[0])] = p;
    removed[i] = true;
  }
  remove_marked(graph, removed);
}

}  // namespace edgegen::converter
