#include "converter/quantize/quantize_graph.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "converter/quantize/ranges.h"
#include "core/in_place.h"
#include "ops/op_params.h"

namespace edgegen::converter {
namespace {

bool linear_opcode(OpCode opcode) {
  return opcode == OpCode::kConv2d || opcode == OpCode::kConvTranspose2d || opcode == OpCode::kFullyConnected;
}

// What the int8 kernels apply in their requantization: a clamp (ReLU,
// Clip), or a leaky ReLU whose slope keeps it max(v, alpha * v). The
// others (sigmoid, tanh, SiLU) stay float ops of their own.
bool int8_fusable_activation(const FusedActivation& activation) {
  return activation.kind == ActivationKind::kNone || activation.kind == ActivationKind::kRelu ||
         activation.kind == ActivationKind::kClip ||
         (activation.kind == ActivationKind::kLeakyRelu && activation.param0 >= 0.f && activation.param0 <= 1.f);
}

// The axis of a linear op's weight that indexes output channels, or -1 when
// only one scale fits (a grouped transposed convolution).
int output_channel_axis(const IrOp& op) {
  if (op.opcode != OpCode::kConvTranspose2d) return 0;  // Conv2d [O, C, ...], FullyConnected [N, K]
  return op.ints[params::kGroups] == 1 ? 1 : -1;
}

bool float_constant(const IrGraph& graph, int tensor) {
  const IrTensor& t = graph.tensors[static_cast<size_t>(tensor)];
  return t.is_constant && t.dtype == DType::kFloat32;
}

// A float32 tensor computed while running (not a constant, not absent).
bool float_activation(const IrGraph& graph, int tensor) {
  if (tensor < 0) return false;
  const IrTensor& t = graph.tensors[static_cast<size_t>(tensor)];
  return !t.is_constant && t.dtype == DType::kFloat32;
}

// A linear op the int8 kernels can run: float activation in, constant float
// weights (and bias), a fused activation the int8 kernels apply (or none).
bool can_quantize(const IrGraph& graph, const IrOp& op) {
  if (!linear_opcode(op.opcode) || !int8_fusable_activation(op.activation)) return false;
  if (!float_activation(graph, op.inputs[0]) || !float_constant(graph, op.inputs[1])) return false;
  if (op.inputs.size() > 2 && op.inputs[2] >= 0 && !float_constant(graph, op.inputs[2])) return false;
  return true;
}

// A GroupNorm the int8 kernels can run: float activation in, constant
// gamma and beta, an activation they fuse (backends/xnnpack/simd/group_norm_int8.h).
bool can_quantize_group_norm(const IrGraph& graph, const IrOp& op) {
  if (op.opcode != OpCode::kGroupNorm || op.inputs.size() != 3) return false;
  const ActivationKind act = op.activation.kind;
  if (act != ActivationKind::kNone && act != ActivationKind::kRelu && act != ActivationKind::kClip &&
      act != ActivationKind::kSilu)
    return false;
  return float_activation(graph, op.inputs[0]) && float_constant(graph, op.inputs[1]) &&
         float_constant(graph, op.inputs[2]);
}

// An Add the int8 kernels can run: two float activations (a residual
// connection, a timestep embedding broadcast per channel), ReLU or Clip
// fused or nothing (kernels/quantized_add.h).
bool can_quantize_add(const IrGraph& graph, const IrOp& op) {
  if (op.opcode != OpCode::kAdd || op.inputs.size() != 2) return false;
  const ActivationKind act = op.activation.kind;
  if (act != ActivationKind::kNone && act != ActivationKind::kRelu && act != ActivationKind::kClip) return false;
  return float_activation(graph, op.inputs[0]) && float_activation(graph, op.inputs[1]);
}

// A unary element-wise op on a float activation: in int8 it is a table of
// 256 bytes (kernels/quantized_unary.h), exactly dequantize, the op and
// quantize, so it costs no quality where the chain would quantize anyway.
bool can_quantize_unary(const IrGraph& graph, const IrOp& op) {
  return is_elementwise_unary(op.opcode) && op.inputs.size() == 1 && op.activation.kind == ActivationKind::kNone &&
         float_activation(graph, op.inputs[0]);
}

// A Concat of float activations (a UNet's skip connection beside its
// upsampled path): in int8 each input is copied, or requantized to the
// output's scale where its own differs.
bool can_quantize_concat(const IrGraph& graph, const IrOp& op) {
  return op.opcode == OpCode::kConcat && !op.inputs.empty() &&
         std::all_of(op.inputs.begin(), op.inputs.end(), [&](int input) { return float_activation(graph, input); });
}

std::vector<float> float_values(const IrTensor& tensor) {
  std::vector<float> values(static_cast<size_t>(tensor.num_elements()));
  std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(float));
  return values;
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

class Rewriter {
 public:
  Rewriter(IrGraph& graph, const std::vector<TensorStatistics>& stats, const QuantizeOptions& options)
      : graph_(graph), stats_(stats), options_(options) {}

  void run(const std::vector<size_t>& quantize) {
    std::vector<bool> in_int8(graph_.ops.size(), false);
    for (size_t index : quantize) in_int8[index] = true;
    const std::set<int> int8_read = read_by_int8_ops(quantize);
    std::vector<IrOp> original = std::move(graph_.ops);
    graph_.ops.clear();
    for (size_t i = 0; i < original.size(); ++i) {
      const IrOp& op = original[i];
      if (in_int8[i]) {
        emit_quantized_linear(op);
      } else if (can_quantize_group_norm(graph_, op) && int8_read.count(op.outputs[0]) && !kept_float(op)) {
        emit_on_int8_inputs(op, 1);
      } else if (can_quantize_add(graph_, op) && int8_read.count(op.outputs[0]) && !kept_float(op) &&
                 (has_int8_twin(op.inputs[0]) || has_int8_twin(op.inputs[1]))) {
        emit_on_int8_inputs(op, 2);
      } else if (can_quantize_unary(graph_, op) && int8_read.count(op.outputs[0]) && !kept_float(op) &&
                 has_int8_twin(op.inputs[0])) {
        emit_on_int8_inputs(op, 1);
      } else if (can_quantize_concat(graph_, op) && int8_read.count(op.outputs[0]) && !kept_float(op) &&
                 std::any_of(op.inputs.begin(), op.inputs.end(), [&](int x) { return has_int8_twin(x); })) {
        emit_on_int8_inputs(op, op.inputs.size());
      } else {
        graph_.ops.push_back(op);
        if (op.opcode == OpCode::kReshape) follow_reshape(op);
        if (nearest_resize(op)) nearest_resize_of_[op.outputs[0]] = op;
        // An int8 twin made in one branch of an inline If does not exist in
        // the other, nor after it when the other ran: quantize anew.
        if (op.opcode == OpCode::kIf || op.opcode == OpCode::kElse || op.opcode == OpCode::kEndIf) {
          int8_twin_.clear();
          nearest_resize_of_.clear();
        }
      }
    }
  }

 private:
  int add_tensor(IrTensor tensor) {
    graph_.tensors.push_back(std::move(tensor));
    return static_cast<int>(graph_.tensors.size() - 1);
  }

  const IrTensor& tensor(int index) const { return graph_.tensors[static_cast<size_t>(index)]; }

  bool kept_float(const IrOp& op) const {
    for (const std::string& name : options_.keep_float)
      if (name == op.name || name == tensor(op.outputs[0]).name) return true;
    return false;
  }

  // The float tensors the int8 ops in `quantize` will read as their input,
  // and, going back, those that a GroupNorm or Add that makes one of them
  // in int8 reads, or that the ops that only move values (Reshape, nearest
  // Resize) turn into one of them: their int8 twins are read, so whatever
  // makes them may as well make them in int8.
  std::set<int> read_by_int8_ops(const std::vector<size_t>& quantize) const {
    std::set<int> read;
    for (size_t index : quantize) read.insert(graph_.ops[index].inputs[0]);
    for (size_t i = graph_.ops.size(); i-- > 0;) {
      const IrOp& op = graph_.ops[i];
      if (op.outputs.empty() || !read.count(op.outputs[0])) continue;
      if (op.opcode == OpCode::kReshape || nearest_resize(op) ||
          ((can_quantize_group_norm(graph_, op) || can_quantize_unary(graph_, op)) && !kept_float(op)))
        read.insert(op.inputs[0]);
      else if ((can_quantize_add(graph_, op) || can_quantize_concat(graph_, op)) && !kept_float(op))
        read.insert(op.inputs.begin(), op.inputs.end());
    }
    return read;
  }

  bool has_int8_twin(int index) const { return int8_twin_.count(index) || nearest_resize_of_.count(index); }

  // A new int8 activation of float tensor `of`'s shape, named after it.
  int add_int8_tensor(int of, IrQuantization quant) {
    IrTensor q;
    q.name = tensor(of).name + "/int8";
    q.dtype = DType::kInt8;
    q.shape = tensor(of).shape;
    q.quant = std::move(quant);
    return add_tensor(std::move(q));
  }

  // The activation quantization of float tensor `index` from its statistics.
  IrQuantization activation_quantization(int index) const {
    const TensorStatistics& stats = stats_[static_cast<size_t>(index)];
    if (!stats.seen)
      throw ConversionError("quantization: calibration never saw tensor '" + tensor(index).name +
                            "' (is its graph given calibration data?)");
    return int8_activation_quantization(choose_range(stats, options_.method, options_.percentile));
  }

  static bool nearest_resize(const IrOp& op) {
    return op.opcode == OpCode::kResize && op.ints.size() > static_cast<size_t>(params::kResizeMode) &&
           op.ints[params::kResizeMode] == params::kResizeNearestMode;
  }

  // The int8 twin of float tensor `index`, quantizing it here on first use.
  // A nearest Resize's output is made by resizing its input's twin instead:
  // nearest only copies values, so they keep their scale, and a decoder's
  // upsampling between two int8 convolutions then moves a quarter of the
  // bytes and quantizes the small image, not the large one.
  int int8_of(int index) {
    auto found = int8_twin_.find(index);
    if (found != int8_twin_.end()) return found->second;
    auto resize = nearest_resize_of_.find(index);
    if (resize != nearest_resize_of_.end()) {
      const IrOp op = resize->second;  // a copy: emitting grows graph_.ops, not this map
      return emit_on_twin(op, int8_of(op.inputs[0]));
    }
    const int twin = add_int8_tensor(index, activation_quantization(index));
    IrOp quantize;
    quantize.opcode = OpCode::kQuantizeLinear;
    quantize.inputs = {index};
    quantize.outputs = {twin};
    quantize.ints = {static_cast<int64_t>(DType::kInt8)};
    quantize.name = tensor(index).name + "/quantize";
    graph_.ops.push_back(std::move(quantize));
    int8_twin_[index] = twin;
    return twin;
  }

  void emit_quantized_linear(const IrOp& op) {
    const int x = int8_of(op.inputs[0]);
    const float x_scale = tensor(x).quant.scales[0];

    const IrTensor& weight = tensor(op.inputs[1]);
    QuantizedWeights w = quantize_weights(weight, output_channel_axis(op));
    IrTensor w_tensor;
    w_tensor.name = weight.name + "/int8";
    w_tensor.dtype = DType::kInt8;
    w_tensor.shape = weight.shape;
    w_tensor.is_constant = true;
    w_tensor.data = bytes_of(w.values);
    w_tensor.quant = w.quant;
    const int w_index = add_tensor(std::move(w_tensor));

    IrOp quantized = op;
    quantized.inputs = {x, w_index};
    if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
      const IrTensor& bias = tensor(op.inputs[2]);
      IrTensor b_tensor;
      b_tensor.name = bias.name + "/int32";
      b_tensor.dtype = DType::kInt32;
      b_tensor.shape = bias.shape;
      b_tensor.is_constant = true;
      b_tensor.data = bytes_of(quantize_bias(float_values(bias), x_scale, tensor(w_index).quant));
      quantized.inputs.push_back(add_tensor(std::move(b_tensor)));
    }
    const int y = op.outputs[0];
    const int y_index = add_int8_tensor(y, activation_quantization(y));
    quantized.outputs = {y_index};
    graph_.ops.push_back(std::move(quantized));
    int8_twin_[y] = y_index;

    // The float result, for float consumers and graph outputs; dead code
    // elimination drops it where nothing reads it.
    emit_dequantize(y_index, y);
  }

  // `op` (a GroupNorm, Add, Concat or unary op) on the int8 twins of its
  // first `activations` inputs (quantized here where one has none yet; a
  // GroupNorm's gamma and beta stay float), into an int8 twin of its output
  // quantized by its calibrated range (a fused activation's included), and
  // the float result for any float reader.
  void emit_on_int8_inputs(const IrOp& op, size_t activations) {
    IrOp quantized = op;
    for (size_t k = 0; k < activations && k < op.inputs.size(); ++k) quantized.inputs[k] = int8_of(op.inputs[k]);
    const int y = op.outputs[0];
    const int y_index = add_int8_tensor(y, activation_quantization(y));
    quantized.outputs = {y_index};
    graph_.ops.push_back(std::move(quantized));
    int8_twin_[y] = y_index;
    emit_dequantize(y_index, y);
  }

  void emit_dequantize(int twin, int y) {
    IrOp dequantize;
    dequantize.opcode = OpCode::kDequantizeLinear;
    dequantize.inputs = {twin};
    dequantize.outputs = {y};
    dequantize.name = tensor(y).name + "/dequantize";
    graph_.ops.push_back(std::move(dequantize));
  }

  // A Reshape of a tensor that has an int8 twin also reshapes the twin
  // (same bytes, same scale), so an int8 chain continues through it.
  void follow_reshape(const IrOp& op) {
    auto found = int8_twin_.find(op.inputs[0]);
    if (found != int8_twin_.end()) emit_on_twin(op, found->second);
  }

  // `op`, which only moves values (Reshape, nearest Resize), applied to the
  // int8 twin `twin_input` of its input: its output's twin, same scale.
  int emit_on_twin(const IrOp& op, int twin_input) {
    const int y = op.outputs[0];
    const int twin_index = add_int8_tensor(y, tensor(twin_input).quant);
    IrOp moved = op;
    moved.inputs[0] = twin_input;
    moved.outputs = {twin_index};
    moved.name = op.name + "/int8";
    graph_.ops.push_back(std::move(moved));
    int8_twin_[y] = twin_index;
    return twin_index;
  }

  IrGraph& graph_;
  const std::vector<TensorStatistics>& stats_;
  const QuantizeOptions& options_;
  std::map<int, int> int8_twin_;  // float tensor -> its int8 version
  std::map<int, IrOp> nearest_resize_of_;  // float tensor -> the nearest Resize that made it
};

}  // namespace

void split_float_activations(IrGraph& graph) {
  std::vector<IrOp> ops;
  for (IrOp& op : graph.ops) {
    if (!linear_opcode(op.opcode) || int8_fusable_activation(op.activation)) {
      ops.push_back(std::move(op));
      continue;
    }
    IrOp activation;
    switch (op.activation.kind) {
      case ActivationKind::kSigmoid: activation.opcode = OpCode::kSigmoid; break;
      case ActivationKind::kTanh: activation.opcode = OpCode::kTanh; break;
      case ActivationKind::kSilu: activation.opcode = OpCode::kSilu; break;
      case ActivationKind::kLeakyRelu:
        activation.opcode = OpCode::kLeakyRelu;
        activation.floats = {op.activation.param0};
        break;
      default: throw ConversionError("internal: unknown fused activation in '" + op.name + "'");
    }
    const int y = op.outputs[0];
    IrTensor pre = graph.tensors[static_cast<size_t>(y)];
    pre.name += "/pre_activation";
    graph.tensors.push_back(std::move(pre));
    const int pre_index = static_cast<int>(graph.tensors.size() - 1);
    activation.inputs = {pre_index};
    activation.outputs = {y};
    activation.name = op.name + "/activation";
    op.outputs = {pre_index};
    op.activation = FusedActivation{};
    ops.push_back(std::move(op));
    ops.push_back(std::move(activation));
  }
  graph.ops = std::move(ops);
}

std::vector<size_t> quantizable_ops(const IrGraph& graph, const std::set<std::string>& keep_float) {
  std::vector<size_t> result;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const IrOp& op = graph.ops[i];
    if (!can_quantize(graph, op)) continue;
    if (keep_float.count(op.name) || keep_float.count(graph.tensors[static_cast<size_t>(op.outputs[0])].name)) continue;
    result.push_back(i);
  }
  return result;
}

void name_quantized_tensors_after_originals(IrGraph& graph) {
  std::set<std::string> names;
  for (const IrTensor& tensor : graph.tensors) names.insert(tensor.name);
  for (IrTensor& tensor : graph.tensors) {
    for (const std::string suffix : {"/int8", "/int32"}) {
      const std::string& name = tensor.name;
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      std::string original = name.substr(0, name.size() - suffix.size());
      if (names.count(original)) continue;
      names.insert(original);
      tensor.name = std::move(original);
    }
  }
}

void quantize_graph(IrGraph& graph, const std::vector<size_t>& quantize, const std::vector<TensorStatistics>& stats,
                    const QuantizeOptions& options) {
  Rewriter(graph, stats, options).run(quantize);
}

}  // namespace edgegen::converter
