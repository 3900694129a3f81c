// ONNX's quantized ops, with their scales and zero points exactly as
// written (they must be constants: an edgegen tensor carries its own):
//   QuantizeLinear / DequantizeLinear -> the ops of the same names; a
//     DequantizeLinear of an int8 weight stays unfolded, so the weight stays
//     int8 (passes/fold_qdq.cc turns DQ -> Conv/Gemm/MatMul -> Q into int8 ops);
//   QLinearConv -> quantized Conv2d; QLinearMatMul -> quantized
//     FullyConnected (constant 2-D b) or MatMul;
//   ConvInteger / MatMulInteger -> the same ops with int32_output: the exact
//     int32 sums, no requantization (scale 1, only the zero points matter).
#include "converter/lowering/lowering.h"
#include "converter/lowering/quantization_parameters.h"
#include "converter/lowering/spatial_attributes.h"
#include "ops/op_params.h"

namespace edgegen::converter {
namespace {

// Opset 19+ attributes: float8 saturation and blocked quantization.
void refuse_newer_attributes(NodeContext& node) {
  if (node.has_attribute("saturate")) node.fail("attribute 'saturate' (float8) is not supported");
  if (node.has_attribute("block_size")) node.fail("attribute 'block_size' (blocked quantization) is not supported");
}

void lower_quantize_linear(NodeContext& node) {
  refuse_newer_attributes(node);
  if (node.input_tensor(0).dtype != DType::kFloat32)
    node.fail("input x is " + std::string(dtype_name(node.input_tensor(0).dtype)) + "; supported: float32");
  const DType dtype = zero_point_dtype(node, 2);
  if (dtype != DType::kInt8 && dtype != DType::kUInt8)
    node.fail(std::string("quantizes to ") + dtype_name(dtype) + "; supported: int8, uint8");
  IrQuantization quant = read_quantization(node, 1, 2, dtype, node.input_shape(0), node.attribute_int("axis", 1), "output y");
  int y = node.emit_unfolded(OpCode::kQuantizeLinear, {node.input(0)}, {static_cast<int64_t>(dtype)});
  node.builder().graph().tensors[static_cast<size_t>(y)].quant = quant;
  node.bind_output(0, y);
}

void lower_dequantize_linear(NodeContext& node) {
  refuse_newer_attributes(node);
  const IrTensor& x = node.input_tensor(0);
  IrQuantization quant = read_quantization(node, 1, 2, x.dtype, x.shape, node.attribute_int("axis", 1), "input x");
  int input = with_quantization(node, node.input(0), quant);
  node.bind_output(0, node.emit_unfolded(OpCode::kDequantizeLinear, {input}));
}

// Input `index` with a per-tensor quantization from the scale/zero-point inputs.
int per_tensor_operand(NodeContext& node, size_t index, int scale_index, int zero_point_index, const std::string& what) {
  const IrTensor& tensor = node.input_tensor(index);
  if (tensor.dtype != DType::kInt8 && tensor.dtype != DType::kUInt8)
    node.fail(what + " is " + dtype_name(tensor.dtype) + "; supported: int8, uint8");
  IrQuantization quant = read_quantization(node, scale_index, zero_point_index, tensor.dtype, tensor.shape, 0, what);
  if (quant.axis >= 0) node.fail(what + " needs one scale and zero point (per-tensor quantization)");
  return with_quantization(node, node.input(index), quant);
}

// The output's quantization from y_scale / y_zero_point, which must be x's dtype.
void set_output_quantization(NodeContext& node, int y, int scale_index, int zero_point_index, DType x_dtype) {
  const DType dtype = zero_point_dtype(node, zero_point_index);
  if (dtype != x_dtype)
    node.fail(std::string("output y is ") + dtype_name(dtype) + " and input x " + dtype_name(x_dtype) +
              "; edgegen's quantized ops output the input's dtype");
  IrQuantization quant = read_quantization(node, scale_index, zero_point_index, dtype, {}, 0, "output y");
  if (quant.axis >= 0) node.fail("output y needs one scale and zero point (per-tensor quantization)");
  node.builder().graph().tensors[static_cast<size_t>(y)].quant = quant;
}

void lower_qlinear_conv(NodeContext& node) {
  std::vector<int64_t> ints = conv2d_ints(node, 3);
  int x = per_tensor_operand(node, 0, 1, 2, "input x");
  const IrTensor& w_tensor = node.input_tensor(3);
  IrQuantization w_quant = read_quantization(node, 4, 5, w_tensor.dtype, w_tensor.shape, 0, "weight w");
  int w = with_quantization(node, node.input(3), w_quant);
  int y = node.emit_unfolded(OpCode::kConv2d, {x, w, node.optional_input(8)}, ints);
  set_output_quantization(node, y, 6, 7, node.builder().tensor(x).dtype);
  node.bind_output(0, y);
}

void lower_conv_integer(NodeContext& node) {
  std::vector<int64_t> ints = conv2d_ints(node, 1);
  ints.push_back(1);  // int32_output
  int x = per_tensor_operand(node, 0, -1, 2, "input x");
  const IrTensor& w_tensor = node.input_tensor(1);
  IrQuantization w_quant = read_quantization(node, -1, 3, w_tensor.dtype, w_tensor.shape, 0, "weight w");
  int w = with_quantization(node, node.input(1), w_quant);
  node.bind_output(0, node.emit_unfolded(OpCode::kConv2d, {x, w}, ints));
}

// a x b (input `b_index`) with b's quantization read from (scale_index, zero_point_index):
// a FullyConnected over b transposed when b is a 2-D constant (b's scales may
// then be per column), else a MatMul of two per-tensor operands.
int quantized_product(NodeContext& node, int a, size_t b_index, int scale_index, int zero_point_index,
                      bool int32_output) {
  const IrTensor b = node.input_tensor(b_index);  // a copy: emitting adds tensors
  if (b.is_constant && b.shape.size() == 2 && node.input_rank(0) >= 1 &&
      (b.dtype == DType::kInt8 || b.dtype == DType::kUInt8)) {
    IrQuantization quant = read_quantization(node, scale_index, zero_point_index, b.dtype, b.shape, 1, "input b");
    IrTensor weight = b;
    weight.quant = quant;
    int weight_id = node.add_constant(transposed_byte_constant(weight));
    return node.emit_unfolded(OpCode::kFullyConnected, {a, weight_id, -1},
                              int32_output ? std::vector<int64_t>{1} : std::vector<int64_t>{});
  }
  int b_id = per_tensor_operand(node, b_index, scale_index, zero_point_index, "input b");
  return node.emit_unfolded(OpCode::kMatMul, {a, b_id}, int32_output ? std::vector<int64_t>{1} : std::vector<int64_t>{});
}

void lower_qlinear_matmul(NodeContext& node) {
  int a = per_tensor_operand(node, 0, 1, 2, "input a");
  int y = quantized_product(node, a, 3, 4, 5, false);
  set_output_quantization(node, y, 6, 7, node.builder().tensor(a).dtype);
  node.bind_output(0, y);
}

void lower_matmul_integer(NodeContext& node) {
  int a = per_tensor_operand(node, 0, -1, 2, "input A");
  node.bind_output(0, quantized_product(node, a, 1, -1, 3, true));
}

}  // namespace

void add_quantized_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"QuantizeLinear", {"axis", "saturate", "block_size"}, lower_quantize_linear});
  rules.push_back({"DequantizeLinear", {"axis", "block_size"}, lower_dequantize_linear});
  rules.push_back({"QLinearConv", {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, lower_qlinear_conv});
  rules.push_back({"ConvInteger", {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, lower_conv_integer});
  rules.push_back({"QLinearMatMul", {}, lower_qlinear_matmul});
  rules.push_back({"MatMulInteger", {}, lower_matmul_integer});
}

}  // namespace edgegen::converter
