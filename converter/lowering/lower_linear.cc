// Gemm, MatMul, Conv and ConvTranspose.
#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"
#include "converter/lowering/quantization_parameters.h"
#include "converter/lowering/spatial_attributes.h"

namespace edgegen::converter {
namespace {

bool is_float_constant(const IrTensor& tensor) { return tensor.is_constant && tensor.dtype == DType::kFloat32; }

// C (beta already applied) as an [N] bias when it broadcasts along rows only.
bool bias_from(const IrTensor& c, int64_t n, float beta, std::vector<float>* bias) {
  const auto& shape = c.shape;
  if (shape.size() > 2) return false;
  if (shape.size() == 2 && shape[0] != 1) return false;
  int64_t width = shape.empty() ? 1 : shape.back();
  if (width != n && width != 1) return false;
  std::vector<float> values = read_floats(c);
  bias->assign(static_cast<size_t>(n), 0.f);
  for (int64_t j = 0; j < n; ++j) (*bias)[static_cast<size_t>(j)] = beta * values[width == 1 ? 0 : static_cast<size_t>(j)];
  return true;
}

// A FullyConnected over an int8/uint8 weight behind a DequantizeLinear
// (`dequantize`, of a [K, N] weight, or [N, K] when `transposed`): the
// weight stays quantized, [N, K], behind a new DequantizeLinear, so that
// passes/fold_qdq.cc can run the product in int8.
int dequantized_fully_connected(NodeContext& node, int a, const IrOp& dequantize, bool transposed, int bias) {
  IrTensor weight = node.builder().tensor(dequantize.inputs[0]);
  weight.name.clear();
  int weight_id = node.add_constant(transposed ? std::move(weight) : transposed_byte_constant(weight));
  int dequantized = node.emit_unfolded(OpCode::kDequantizeLinear, {weight_id});
  return node.emit(OpCode::kFullyConnected, {a, dequantized, bias});
}

// C as FullyConnected's bias (beta 1): an [N] or [1, N] float tensor,
// constant or not (a DequantizeLinear of an int32 bias).
int bias_input(NodeContext& node, int c, int64_t n, float beta) {
  if (c < 0 || beta != 1.f) return -1;
  const IrTensor& bias = node.builder().tensor(c);
  if (bias.dtype != DType::kFloat32) return -1;
  if (bias.shape == std::vector<int64_t>{n}) return c;
  if (bias.shape == std::vector<int64_t>{1, n}) return node.reshape(c, {n});
  return -1;
}

void lower_gemm(NodeContext& node) {
  float alpha = node.attribute_float("alpha", 1.0f);
  float beta = node.attribute_float("beta", 1.0f);
  int64_t trans_a = node.attribute_int("transA", 0);
  int64_t trans_b = node.attribute_int("transB", 0);
  // Opset < 7 'broadcast' only allowed C to broadcast; numpy rules cover it.
  node.attribute_int("broadcast", 0);
  if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1)) node.fail("transA/transB must be 0 or 1");
  if (node.input_rank(0) != 2 || node.input_rank(1) != 2) node.fail("A and B must be 2-D");

  int a = node.input(0);
  if (trans_a) a = node.emit(OpCode::kTranspose, {a}, {1, 0});
  const IrTensor b_tensor = node.input_tensor(1);  // a copy: emitting may move tensors
  int c = node.optional_input(2);

  const IrOp* dequantize = dequantized_constant(node.builder().graph(), node.input(1));
  if (dequantize != nullptr && alpha == 1.f && node.builder().tensor(a).dtype == DType::kFloat32) {
    const IrOp dq = *dequantize;  // a copy: emitting adds ops
    int64_t n = trans_b ? b_tensor.shape[0] : b_tensor.shape[1];
    int bias = bias_input(node, c, n, beta);
    int result = dequantized_fully_connected(node, a, dq, trans_b != 0, bias);
    if (bias < 0 && c >= 0 && beta != 0.f) {
      if (beta != 1.f) c = node.emit(OpCode::kMul, {c, node.float_constant({}, {beta})});
      result = node.emit(OpCode::kAdd, {result, c});
    }
    node.bind_output(0, result);
    return;
  }
  if (is_float_constant(b_tensor) && node.builder().tensor(a).dtype == DType::kFloat32) {
    // FullyConnected wants weight [N, K]; bake alpha into it.
    int64_t rows = b_tensor.shape[0], cols = b_tensor.shape[1];
    int64_t n = trans_b ? rows : cols, k = trans_b ? cols : rows;
    std::vector<float> b = read_floats(b_tensor), weight(static_cast<size_t>(n * k));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        weight[static_cast<size_t>(i * k + j)] = alpha * (trans_b ? b[static_cast<size_t>(i * k + j)] : b[static_cast<size_t>(j * n + i)]);
    int weight_id = node.float_constant({n, k}, weight);
    std::vector<float> bias;
    if (c >= 0 && is_float_constant(node.builder().tensor(c)) && bias_from(node.builder().tensor(c), n, beta, &bias)) {
      node.bind_output(0, node.emit(OpCode::kFullyConnected, {a, weight_id, node.float_constant({n}, bias)}));
      return;
    }
    int result = node.emit(OpCode::kFullyConnected, {a, weight_id, -1});
    if (c >= 0 && beta != 0.f) {
      if (beta != 1.f) c = node.emit(OpCode::kMul, {c, node.float_constant({}, {beta})});
      result = node.emit(OpCode::kAdd, {result, c});
    }
    node.bind_output(0, result);
    return;
  }

  int b = node.input(1);
  if (trans_b) b = node.emit(OpCode::kTranspose, {b}, {1, 0});
  int result = node.emit(OpCode::kMatMul, {a, b});
  if (alpha != 1.f) result = node.emit(OpCode::kMul, {result, node.float_constant({}, {alpha})});
  if (c >= 0 && beta != 0.f) {
    if (beta != 1.f) c = node.emit(OpCode::kMul, {c, node.float_constant({}, {beta})});
    result = node.emit(OpCode::kAdd, {result, c});
  }
  node.bind_output(0, result);
}

void lower_matmul(NodeContext& node) {
  const IrTensor& a = node.input_tensor(0);
  const IrTensor& b = node.input_tensor(1);
  const IrOp* dequantize = dequantized_constant(node.builder().graph(), node.input(1));
  if (dequantize != nullptr && !a.is_constant && b.shape.size() == 2 && a.shape.size() >= 2 &&
      a.dtype == DType::kFloat32) {
    const IrOp dq = *dequantize;
    node.bind_output(0, dequantized_fully_connected(node, node.input(0), dq, false, -1));
    return;
  }
  if (!a.is_constant && is_float_constant(b) && b.shape.size() == 2 && a.shape.size() >= 2 &&
      a.dtype == DType::kFloat32) {
    int64_t k = b.shape[0], n = b.shape[1];
    std::vector<float> values = read_floats(b), weight(values.size());
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j) weight[static_cast<size_t>(j * k + i)] = values[static_cast<size_t>(i * n + j)];
    node.bind_output(0, node.emit(OpCode::kFullyConnected, {node.input(0), node.float_constant({n, k}, weight), -1}));
    return;
  }
  node.bind_output(0, node.emit(OpCode::kMatMul, {node.input(0), node.input(1)}));
}

void lower_conv(NodeContext& node) {
  node.bind_output(0, node.emit(OpCode::kConv2d, {node.input(0), node.input(1), node.optional_input(2)},
                                conv2d_ints(node, 1)));
}

void lower_conv_transpose(NodeContext& node) {
  std::vector<int64_t> input_spatial, kernel;
  window_dims(node, 1, &input_spatial, &kernel);
  size_t dims = kernel.size();
  int64_t groups = node.attribute_int("group", 1);
  if (groups < 1) node.fail("attribute 'group' must be positive");
  std::vector<int64_t> strides = node.attribute_ints("strides", std::vector<int64_t>(dims, 1));
  std::vector<int64_t> dilations = node.attribute_ints("dilations", std::vector<int64_t>(dims, 1));
  std::vector<int64_t> output_padding = node.attribute_ints("output_padding", std::vector<int64_t>(dims, 0));
  if (strides.size() != dims || dilations.size() != dims || output_padding.size() != dims)
    node.fail("strides, dilations and output_padding need " + std::to_string(dims) + " values each");
  for (size_t i = 0; i < dims; ++i) {
    if (strides[i] < 1 || dilations[i] < 1) node.fail("strides and dilations must be positive");
    if (output_padding[i] < 0) node.fail("attribute 'output_padding' must not be negative");
  }
  std::string auto_pad = node.attribute_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    node.unsupported_attribute("auto_pad", "'" + auto_pad + "'", "NOTSET, VALID, SAME_UPPER, SAME_LOWER");

  std::vector<int64_t> pad_begin(dims, 0), pad_end(dims, 0);
  std::vector<int64_t> output_shape = node.attribute_ints("output_shape", {});
  if (!output_shape.empty() && output_shape.size() == dims + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  if (!output_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    if (!output_shape.empty() && output_shape.size() != dims)
      node.fail("attribute 'output_shape' needs " + std::to_string(dims) + " spatial values");
    for (size_t i = 0; i < dims; ++i) {
      int64_t wanted = output_shape.empty() ? input_spatial[i] * strides[i] : output_shape[i];
      int64_t full = strides[i] * (input_spatial[i] - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1;
      int64_t total = full - wanted;
      if (total < 0) {
        // A larger output than the full one: the extra rows come from output padding.
        output_padding[i] -= total;
        total = 0;
      }
      int64_t small = total / 2, large = total - total / 2;
      pad_begin[i] = auto_pad == "SAME_UPPER" ? small : large;
      pad_end[i] = auto_pad == "SAME_UPPER" ? large : small;
    }
  } else if (auto_pad == "NOTSET") {
    std::vector<int64_t> pads = node.attribute_ints("pads", std::vector<int64_t>(2 * dims, 0));
    if (pads.size() != 2 * dims) node.fail("attribute 'pads' needs " + std::to_string(2 * dims) + " values");
    for (int64_t pad : pads)
      if (pad < 0) node.fail("attribute 'pads' has a negative value; not supported");
    pad_begin.assign(pads.begin(), pads.begin() + static_cast<long>(dims));
    pad_end.assign(pads.begin() + static_cast<long>(dims), pads.end());
  }
  for (size_t i = 0; i < dims; ++i)
    if (output_padding[i] >= std::max(strides[i], dilations[i]) && output_shape.empty())
      node.fail("attribute 'output_padding' must be smaller than the stride or dilation");

  SpatialWindow window{kernel, strides, dilations, pad_begin, pad_end};
  std::vector<int64_t> ints = conv_ints(window, groups);
  ints.push_back(height_of(output_padding, 0));
  ints.push_back(width_of(output_padding));
  node.bind_output(0, node.emit(OpCode::kConvTranspose2d, {node.input(0), node.input(1), node.optional_input(2)}, ints));
}

}  // namespace

void add_linear_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"Gemm", {"alpha", "beta", "transA", "transB", "broadcast"}, lower_gemm});
  rules.push_back({"MatMul", {}, lower_matmul});
  rules.push_back({"Conv", {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, lower_conv});
  rules.push_back({"ConvTranspose",
                   {"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"},
                   lower_conv_transpose});
}

}  // namespace edgegen::converter
