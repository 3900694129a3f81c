#include "converter/onnx_tensor.h"

#include <charconv>
#include <cstring>
#include <fstream>

#include "converter/converter.h"

namespace edgegen::converter {

const char* onnx_type_name(int onnx_type) {
  switch (onnx_type) {
    case onnx::TensorProto::FLOAT: return "float";
    case onnx::TensorProto::UINT8: return "uint8";
    case onnx::TensorProto::INT8: return "int8";
    case onnx::TensorProto::UINT16: return "uint16";
    case onnx::TensorProto::INT16: return "int16";
    case onnx::TensorProto::INT32: return "int32";
    case onnx::TensorProto::INT64: return "int64";
    case onnx::TensorProto::STRING: return "string";
    case onnx::TensorProto::BOOL: return "bool";
    case onnx::TensorProto::FLOAT16: return "float16";
    case onnx::TensorProto::DOUBLE: return "double";
    case onnx::TensorProto::UINT32: return "uint32";
    case onnx::TensorProto::UINT64: return "uint64";
    case onnx::TensorProto::BFLOAT16: return "bfloat16";
    default: return "unknown";
  }
}

DType dtype_from_onnx(int onnx_type, const std::string& what) {
  switch (onnx_type) {
    case onnx::TensorProto::FLOAT: return DType::kFloat32;
    case onnx::TensorProto::UINT8: return DType::kUInt8;
    case onnx::TensorProto::INT8: return DType::kInt8;
    case onnx::TensorProto::INT32: return DType::kInt32;
    case onnx::TensorProto::INT64: return DType::kInt64;
    case onnx::TensorProto::BOOL: return DType::kBool;
    // edgegen computes in float32: double tensors, casts and attributes
    // become float32 (the import notes it, see uses_double in onnx_import.cc).
    case onnx::TensorProto::DOUBLE: return DType::kFloat32;
    default:
      throw ConversionError(what + " has element type " + onnx_type_name(onnx_type) +
                            " (ONNX type " + std::to_string(onnx_type) +
                            "); supported: float, uint8, int8, int32, int64, bool (and double, computed as float)");
  }
}

namespace {

std::string read_external_data(const onnx::TensorProto& proto, const std::string& model_dir, size_t bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  // std::stoll would throw std::invalid_argument or std::out_of_range.
  auto number = [&](const std::string& key, const std::string& text) {
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 0)
      throw ConversionError("initializer '" + proto.name() + "': external data " + key + " '" + text +
                            "' is not a non-negative integer");
    return value;
  };
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    else if (entry.key() == "offset") offset = number("offset", entry.value());
    else if (entry.key() == "length") length = number("length", entry.value());
  }
  if (location.empty()) throw ConversionError("initializer '" + proto.name() + "' has external data without a location");
  std::string path = model_dir.empty() ? location : model_dir + "/" + location;
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ConversionError("initializer '" + proto.name() + "': cannot open external data file '" + path + "'");
  if (length >= 0 && static_cast<size_t>(length) != bytes)
    throw ConversionError("initializer '" + proto.name() + "': external data length does not match its shape");
  std::string data(bytes, '\0');
  file.seekg(offset);
  file.read(data.data(), static_cast<std::streamsize>(bytes));
  if (!file) throw ConversionError("initializer '" + proto.name() + "': external data file '" + path + "' is too short");
  return data;
}

// The values of a double tensor (external, raw or double_data), rounded to float.
void narrow_doubles(const onnx::TensorProto& proto, const std::string& model_dir, size_t count, float* out) {
  const size_t bytes = count * sizeof(double);
  std::string data;
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    data = read_external_data(proto, model_dir, bytes);
  } else if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes)
      throw ConversionError("tensor '" + proto.name() + "' has " + std::to_string(proto.raw_data().size()) +
                            " bytes of raw data, its " + std::to_string(count) + " doubles need " + std::to_string(bytes));
    data = proto.raw_data();
  } else {
    if (static_cast<size_t>(proto.double_data_size()) != count)
      throw ConversionError("tensor '" + proto.name() + "' holds " + std::to_string(proto.double_data_size()) +
                            " values, its shape needs " + std::to_string(count));
    for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(proto.double_data(static_cast<int>(i)));
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    double value;
    std::memcpy(&value, data.data() + i * sizeof(double), sizeof(double));
    out[i] = static_cast<float>(value);
  }
}

}  // namespace

IrTensor tensor_from_onnx(const onnx::TensorProto& proto, const std::string& model_dir) {
  IrTensor tensor;
  tensor.name = proto.name();
  tensor.dtype = dtype_from_onnx(proto.data_type(), "tensor '" + proto.name() + "'");
  tensor.shape.assign(proto.dims().begin(), proto.dims().end());
  for (int64_t dim : tensor.shape)
    if (dim < 0) throw ConversionError("tensor '" + proto.name() + "' has a negative dimension");
  tensor.is_constant = true;
  size_t count = static_cast<size_t>(tensor.num_elements());
  size_t bytes = tensor.bytes();
  if (proto.has_segment()) throw ConversionError("tensor '" + proto.name() + "' is segmented; not supported");

  // The data the shape claims is checked against what the file holds before
  // anything is allocated: a few bytes claiming a huge shape must not be.
  auto check_count = [&](size_t have) {
    if (have != count)
      throw ConversionError("tensor '" + proto.name() + "' holds " + std::to_string(have) + " values, its shape " +
                            shape_to_string(tensor.shape) + " needs " + std::to_string(count));
  };
  if (proto.data_type() == onnx::TensorProto::DOUBLE) {
    tensor.allocate_data();
    narrow_doubles(proto, model_dir, count, reinterpret_cast<float*>(tensor.data.data()));
    return tensor;
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    tensor.allocate_data();
    std::string data = read_external_data(proto, model_dir, bytes);
    if (bytes) std::memcpy(tensor.data.data(), data.data(), bytes);
  } else if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes)
      throw ConversionError("tensor '" + proto.name() + "' has " + std::to_string(proto.raw_data().size()) +
                            " bytes of raw data, its shape " + shape_to_string(tensor.shape) + " needs " +
                            std::to_string(bytes));
    tensor.allocate_data();
    if (bytes) std::memcpy(tensor.data.data(), proto.raw_data().data(), bytes);
  } else {
    // memcpy from an empty repeated field's null storage is undefined, even for 0 bytes.
    switch (tensor.dtype) {
      case DType::kFloat32:
        check_count(static_cast<size_t>(proto.float_data_size()));
        tensor.allocate_data();
        if (bytes) std::memcpy(tensor.data.data(), proto.float_data().data(), bytes);
        break;
      case DType::kInt64:
        check_count(static_cast<size_t>(proto.int64_data_size()));
        tensor.allocate_data();
        if (bytes) std::memcpy(tensor.data.data(), proto.int64_data().data(), bytes);
        break;
      case DType::kInt32:
        check_count(static_cast<size_t>(proto.int32_data_size()));
        tensor.allocate_data();
        if (bytes) std::memcpy(tensor.data.data(), proto.int32_data().data(), bytes);
        break;
      case DType::kInt8:
      case DType::kUInt8:
      case DType::kBool:
        // Small types are stored one per int32_data entry.
        check_count(static_cast<size_t>(proto.int32_data_size()));
        tensor.allocate_data();
        for (size_t i = 0; i < count; ++i) tensor.data[i] = static_cast<uint8_t>(proto.int32_data(static_cast<int>(i)));
        break;
      default: tensor.allocate_data(); break;
    }
  }
  return tensor;
}

}  // namespace edgegen::converter
