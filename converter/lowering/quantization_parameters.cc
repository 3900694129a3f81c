#include "converter/lowering/quantization_parameters.h"

#include <cmath>
#include <limits>

#include "converter/constant_data.h"

namespace edgegen::converter {

DType zero_point_dtype(const NodeContext& node, int zero_point_index) {
  return zero_point_index >= 0 && node.has_input(static_cast<size_t>(zero_point_index))
             ? node.input_tensor(static_cast<size_t>(zero_point_index)).dtype
             : DType::kUInt8;
}

IrQuantization read_quantization(const NodeContext& node, int scale_index, int zero_point_index, DType dtype,
                                 const std::vector<int64_t>& shape, int64_t axis, const std::string& what) {
  if (dtype != DType::kInt8 && dtype != DType::kUInt8 && dtype != DType::kInt32)
    node.fail(what + " is " + dtype_name(dtype) + "; quantized tensors are int8, uint8 or int32 "
              "(float8, int4, int16 and other types are not supported)");
  std::vector<float> scales = {1.f};
  if (scale_index >= 0) {
    const IrTensor& scale = node.input_tensor(static_cast<size_t>(scale_index));
    if (scale.dtype != DType::kFloat32)
      node.fail(what + "'s scale is " + dtype_name(scale.dtype) + "; supported: float32");
    if (scale.shape.size() > 1)
      node.fail(what + "'s scale has rank " + std::to_string(scale.shape.size()) +
                "; blocked quantization is not supported (scalar or 1-D scales only)");
    scales = node.constant_floats(static_cast<size_t>(scale_index), what + "'s scale");
  }
  std::vector<int64_t> zero_points(scales.size(), 0);
  if (zero_point_index >= 0 && node.has_input(static_cast<size_t>(zero_point_index))) {
    const IrTensor& zero_point = node.input_tensor(static_cast<size_t>(zero_point_index));
    if (zero_point.dtype != dtype)
      node.fail(what + "'s zero point is " + dtype_name(zero_point.dtype) + ", the tensor is " + dtype_name(dtype));
    zero_points = node.constant_ints(static_cast<size_t>(zero_point_index), what + "'s zero point");
    if (scale_index < 0) scales.assign(zero_points.size(), 1.f);
  }
  if (scales.empty()) node.fail(what + " has an empty scale");
  if (zero_points.size() != scales.size())
    node.fail(what + " has " + std::to_string(scales.size()) + " scales but " + std::to_string(zero_points.size()) +
              " zero points");
  for (float scale : scales)
    if (!(std::isfinite(scale) && scale >= std::numeric_limits<float>::min()))
      node.fail(what + " has scale " + std::to_string(scale) +
                "; scales must be positive, finite and normal (not zero, NaN or denormal)");
  const int64_t low = dtype == DType::kInt8 ? -128 : 0, high = dtype == DType::kInt8 ? 127 : dtype == DType::kUInt8 ? 255 : 0;
  for (int64_t zero_point : zero_points)
    if (zero_point < low || zero_point > high)
      node.fail(what + " has zero point " + std::to_string(zero_point) + ", outside " + dtype_name(dtype) + " [" +
                std::to_string(low) + ", " + std::to_string(high) + "]" +
                (dtype == DType::kInt32 ? " (int32 tensors take zero point 0)" : ""));
  IrQuantization quant;
  quant.scales = scales;
  quant.zero_points = zero_points;
  if (scales.size() > 1) {
    const int rank = static_cast<int>(shape.size());
    const int dim = node.normalize_axis(axis, rank, what + "'s quantization axis");
    if (shape[static_cast<size_t>(dim)] != static_cast<int64_t>(scales.size()))
      node.fail(what + " has " + std::to_string(scales.size()) + " scales along axis " + std::to_string(dim) +
                ", whose size is " + std::to_string(shape[static_cast<size_t>(dim)]));
    quant.axis = dim;
  }
  return quant;
}

int with_quantization(NodeContext& node, int id, const IrQuantization& quant) {
  IrTensor& tensor = node.builder().graph().tensors[static_cast<size_t>(id)];
  if (!tensor.quant.present()) {
    tensor.quant = quant;
    return id;
  }
  if (tensor.quant == quant) return id;
  if (tensor.is_constant) {
    IrTensor copy = tensor;
    copy.name.clear();
    copy.quant = quant;
    return node.add_constant(std::move(copy));
  }
  int copy = node.emit_unfolded(OpCode::kIdentity, {id});
  node.builder().graph().tensors[static_cast<size_t>(copy)].quant = quant;
  return copy;
}

IrTensor transposed_byte_constant(const IrTensor& tensor) {
  IrTensor result = tensor;
  result.name.clear();
  const int64_t rows = tensor.shape[0], cols = tensor.shape[1];
  result.shape = {cols, rows};
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      result.data[static_cast<size_t>(j * rows + i)] = tensor.data[static_cast<size_t>(i * cols + j)];
  if (result.quant.axis >= 0) result.quant.axis = 1 - result.quant.axis;
  return result;
}

const IrOp* dequantized_constant(const IrGraph& graph, int id) {
  for (const IrOp& op : graph.ops) {
    if (op.outputs.size() != 1 || op.outputs[0] != id) continue;
    if (op.opcode != OpCode::kDequantizeLinear) return nullptr;
    const IrTensor& input = graph.tensors[static_cast<size_t>(op.inputs[0])];
    bool byte_weight = input.dtype == DType::kInt8 || input.dtype == DType::kUInt8;
    return input.is_constant && byte_weight ? &op : nullptr;
  }
  return nullptr;
}

}  // namespace edgegen::converter
