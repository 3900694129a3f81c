// QDQ models (ONNX Runtime's quantize_static, PyTorch FX) write an int8
// product as float ops between DequantizeLinear and QuantizeLinear:
//
//   x_q -> DQ -> Conv2d / FullyConnected / MatMul -> Q -> y_q
//   w_q -> DQ ---^          (bias: DQ of int32, or float)
//   a_q -> DQ -> Add / Concat -> Q -> y_q   (a residual, a skip connection)
//   b_q -> DQ --^
//   x_q -> DQ -> Sigmoid / Tanh / any unary op -> Q -> y_q
//
// This pass makes each such chain the quantized op itself, with the scales
// and zero points written in the model: x_q and y_q keep theirs, the weight
// stays the int8/uint8 constant w_q, and the bias becomes int32 in units of
// x_scale * w_scale[c] (taken as written when its DQ has exactly that
// scale and zero point 0; otherwise rounded from its real value, as ONNX
// Runtime does). A fused ReLU/Clip becomes the output's integer range.
// Chains that do not match stay as explicit Q/DQ around float ops, which
// compute the same thing in float; fold_dequantized_weights then folds
// what is left of weight DQs into float constants.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "converter/constant_data.h"
#include "converter/passes/passes.h"
#include "core/in_place.h"

namespace edgegen::converter {
namespace {

struct Producers {
  const IrGraph& graph;
  std::vector<int> of;
  const IrOp* op(int tensor) const {
    if (tensor < 0 || of[static_cast<size_t>(tensor)] < 0) return nullptr;
    return &graph.ops[static_cast<size_t>(of[static_cast<size_t>(tensor)])];
  }
  // The quantized tensor a DequantizeLinear turns into `tensor`, or -1.
  int dequantized_from(int tensor) const {
    const IrOp* producer = op(tensor);
    return producer && producer->opcode == OpCode::kDequantizeLinear ? producer->inputs[0] : -1;
  }
};

bool is_byte_dtype(DType dtype) { return dtype == DType::kInt8 || dtype == DType::kUInt8; }

// The op's bias as int32 in units of x_scale * w_scale[c]; false when it
// cannot be (the bias is computed at run time, or out of int32's range).
bool int32_bias(const IrGraph& graph, const Producers& producers, int bias, const IrQuantization& x,
                const IrQuantization& w, int64_t channels, std::vector<int32_t>* out) {
  out->assign(static_cast<size_t>(channels), 0);
  auto unit = [&](int64_t c) {
    return x.scales[0] * w.scales[w.scales.size() == 1 ? 0 : static_cast<size_t>(c)];
  };
  const int quantized = producers.dequantized_from(bias);
  if (quantized >= 0) {
    const IrTensor& q = graph.tensors[static_cast<size_t>(quantized)];
    if (!q.is_constant || q.dtype != DType::kInt32 || q.num_elements() != channels) return false;
    bool as_written = true;
    for (int64_t c = 0; c < channels; ++c) {
      size_t i = q.quant.scales.size() == 1 ? 0 : static_cast<size_t>(c);
      as_written = as_written && q.quant.scales[i] == unit(c) && q.quant.zero_points[i] == 0;
    }
    std::vector<int64_t> values = read_int64s(q);
    if (as_written) {
      for (int64_t c = 0; c < channels; ++c) (*out)[static_cast<size_t>(c)] = static_cast<int32_t>(values[static_cast<size_t>(c)]);
      return true;
    }
    std::vector<float> real(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      size_t i = q.quant.scales.size() == 1 ? 0 : static_cast<size_t>(c);
      real[static_cast<size_t>(c)] = q.quant.scales[i] * static_cast<float>(values[static_cast<size_t>(c)] - q.quant.zero_points[i]);
    }
    for (int64_t c = 0; c < channels; ++c) {
      double v = std::nearbyint(static_cast<double>(real[static_cast<size_t>(c)]) / unit(c));
      if (!(std::fabs(v) < 2147483647.0)) return false;
      (*out)[static_cast<size_t>(c)] = static_cast<int32_t>(v);
    }
    return true;
  }
  const IrTensor& b = graph.tensors[static_cast<size_t>(bias)];
  if (!b.is_constant || b.dtype != DType::kFloat32 || b.num_elements() != channels) return false;
  std::vector<float> real = read_floats(b);
  for (int64_t c = 0; c < channels; ++c) {
    double v = std::nearbyint(static_cast<double>(real[static_cast<size_t>(c)]) / unit(c));
    if (!(std::fabs(v) < 2147483647.0)) return false;
    (*out)[static_cast<size_t>(c)] = static_cast<int32_t>(v);
  }
  return true;
}

// The QuantizeLinear that is the only reader of op `index`'s output (which
// is not a graph output), or graph.ops.size().
size_t only_quantize_of(const IrGraph& graph, const std::vector<int>& consumers, size_t index) {
  const int output = graph.ops[index].outputs[0];
  if (graph.is_graph_output(output) || consumers[static_cast<size_t>(output)] != 1) return graph.ops.size();
  for (size_t i = index + 1; i < graph.ops.size(); ++i)
    if (graph.ops[i].inputs.size() == 1 && graph.ops[i].inputs[0] == output)
      return graph.ops[i].opcode == OpCode::kQuantizeLinear ? i : graph.ops.size();
  return graph.ops.size();
}

// An element-wise op whose every input is a dequantized per-tensor tensor of
// one byte dtype, and whose result is quantized per tensor to that dtype:
// the op on the quantized tensors themselves. An Add (kernels/quantized_add.h),
// a Concat (inputs requantized to the output's scale) or a unary op (a table
// of bytes, kernels/quantized_unary.h).
bool fold_elementwise(IrGraph& graph, const Producers& producers, size_t index, size_t q_index) {
  IrOp& op = graph.ops[index];
  const int y = graph.ops[q_index].outputs[0];
  const IrTensor& yt = graph.tensors[static_cast<size_t>(y)];
  if (!is_byte_dtype(yt.dtype) || yt.quant.axis >= 0) return false;
  std::vector<int> inputs;
  for (int input : op.inputs) {
    const int q = input >= 0 ? producers.dequantized_from(input) : -1;
    if (q < 0) return false;
    const IrTensor& qt = graph.tensors[static_cast<size_t>(q)];
    if (qt.dtype != yt.dtype || qt.quant.axis >= 0) return false;
    inputs.push_back(q);
  }
  op.inputs = inputs;
  op.outputs = {y};
  graph.ops.erase(graph.ops.begin() + static_cast<long>(q_index));
  return true;
}

// Rewrites `op` (index `index`) into its quantized form when its chain matches.
bool fold_one(IrGraph& graph, const Producers& producers, const std::vector<int>& consumers, size_t index) {
  IrOp& op = graph.ops[index];
  const bool elementwise = (op.opcode == OpCode::kAdd && op.inputs.size() == 2) ||
                           (op.opcode == OpCode::kConcat && !op.inputs.empty()) ||
                           (is_elementwise_unary(op.opcode) && op.inputs.size() == 1);
  if (op.opcode != OpCode::kConv2d && op.opcode != OpCode::kFullyConnected && op.opcode != OpCode::kMatMul &&
      !elementwise)
    return false;
  if (op.activation.kind != ActivationKind::kNone && op.activation.kind != ActivationKind::kRelu &&
      op.activation.kind != ActivationKind::kClip)
    return false;
  if (op.activation.kind != ActivationKind::kNone && op.opcode != OpCode::kAdd && elementwise) return false;
  const size_t q_index = only_quantize_of(graph, consumers, index);
  if (q_index == graph.ops.size()) return false;
  if (elementwise) return fold_elementwise(graph, producers, index, q_index);
  const int y = graph.ops[q_index].outputs[0];
  const int x = producers.dequantized_from(op.inputs[0]);
  const int w = producers.dequantized_from(op.inputs[1]);
  if (x < 0 || w < 0) return false;
  const IrTensor& xt = graph.tensors[static_cast<size_t>(x)];
  const IrTensor& wt = graph.tensors[static_cast<size_t>(w)];
  const IrTensor& yt = graph.tensors[static_cast<size_t>(y)];
  if (!is_byte_dtype(xt.dtype) || yt.dtype != xt.dtype || !is_byte_dtype(wt.dtype)) return false;
  if (xt.quant.axis >= 0 || yt.quant.axis >= 0) return false;
  if (op.opcode == OpCode::kMatMul) {
    if (wt.quant.axis >= 0 || (op.inputs.size() > 2 && op.inputs[2] >= 0)) return false;
    if (op.activation.kind != ActivationKind::kNone) return false;
  } else {
    if (!wt.is_constant || (wt.quant.axis >= 0 && wt.quant.axis != 0)) return false;
  }
  std::vector<int> inputs = {x, w};
  if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
    std::vector<int32_t> bias;
    if (!int32_bias(graph, producers, op.inputs[2], xt.quant, wt.quant, wt.shape[0], &bias)) return false;
    IrTensor tensor;
    tensor.name = graph.tensors[static_cast<size_t>(op.inputs[2])].name + "/int32";
    tensor.dtype = DType::kInt32;
    tensor.shape = {wt.shape[0]};
    tensor.is_constant = true;
    tensor.allocate_data();
    std::memcpy(tensor.data.data(), bias.data(), bias.size() * sizeof(int32_t));
    graph.tensors.push_back(std::move(tensor));
    inputs.push_back(static_cast<int>(graph.tensors.size()) - 1);
  }
  IrOp& folded = graph.ops[index];
  folded.inputs = inputs;
  folded.outputs = {y};
  graph.ops.erase(graph.ops.begin() + static_cast<long>(q_index));
  return true;
}

}  // namespace

void fold_quantize_dequantize(IrGraph& graph) {
  bool changed = true;
  while (changed) {
    changed = false;
    Producers producers{graph, graph.producers()};
    std::vector<int> consumers = graph.consumer_counts();
    for (size_t i = 0; i < graph.ops.size() && !changed; ++i) changed = fold_one(graph, producers, consumers, i);
  }
}

void fold_dequantized_weights(IrGraph& graph) {
  for (IrOp& op : graph.ops) {
    if (op.opcode != OpCode::kDequantizeLinear) continue;
    const IrTensor& q = graph.tensors[static_cast<size_t>(op.inputs[0])];
    if (!q.is_constant || graph.is_graph_output(op.outputs[0])) continue;
    std::vector<int64_t> values = read_int64s(q);
    std::vector<float> real(values.size());
    size_t inner = 1;
    if (q.quant.axis >= 0)
      for (size_t d = static_cast<size_t>(q.quant.axis) + 1; d < q.shape.size(); ++d) inner *= static_cast<size_t>(q.shape[d]);
    const size_t channels = q.quant.scales.size();
    for (size_t i = 0; i < values.size(); ++i) {
      const size_t c = channels == 1 ? 0 : (i / inner) % channels;
      real[i] = static_cast<float>(values[i] - q.quant.zero_points[c]) * q.quant.scales[c];
    }
    IrTensor& y = graph.tensors[static_cast<size_t>(op.outputs[0])];
    IrTensor folded = make_float_constant(y.name, y.shape, real);
    y = std::move(folded);
    op.opcode = OpCode::kIdentity;  // no longer needed: removed below (If's markers also write nothing)
    op.outputs.clear();
  }
  graph.ops.erase(std::remove_if(graph.ops.begin(), graph.ops.end(),
                                 [](const IrOp& op) { return op.outputs.empty() && op.opcode == OpCode::kIdentity; }),
                  graph.ops.end());
}

}  // namespace edgegen::converter
