// ONNX TensorProto / element types -> converter tensors.
#pragma once

#include <string>

#include "converter/ir.h"
#include "onnx/onnx_pb.h"

namespace edgegen::converter {

// The edgegen dtype for an ONNX TensorProto.DataType; throws ConversionError
// naming `what` and the supported types for anything else.
DType dtype_from_onnx(int onnx_type, const std::string& what);
const char* onnx_type_name(int onnx_type);

// A constant from a TensorProto (raw_data, typed fields or external data
// relative to `model_dir`).
IrTensor tensor_from_onnx(const onnx::TensorProto& proto, const std::string& model_dir);

}  // namespace edgegen::converter
