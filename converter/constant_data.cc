#include "converter/constant_data.h"

#include <cstring>

#include "converter/converter.h"

namespace edgegen::converter {

bool is_integer_dtype(DType dtype) {
  switch (dtype) {
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kInt32:
    case DType::kInt64:
    case DType::kBool: return true;
    default: return false;
  }
}

namespace {

template <typename T>
T load(const uint8_t* data, size_t index) {
  T value;
  std::memcpy(&value, data + index * sizeof(T), sizeof(T));
  return value;
}

template <typename Out>
std::vector<Out> read_as(const IrTensor& tensor) {
  if (!tensor.is_constant) throw ConversionError("tensor '" + tensor.name + "' is not a constant");
  size_t count = static_cast<size_t>(tensor.num_elements());
  std::vector<Out> values(count);
  const uint8_t* data = tensor.data.data();
  for (size_t i = 0; i < count; ++i) {
    switch (tensor.dtype) {
      case DType::kFloat32: values[i] = static_cast<Out>(load<float>(data, i)); break;
      case DType::kInt8: values[i] = static_cast<Out>(load<int8_t>(data, i)); break;
      case DType::kUInt8: values[i] = static_cast<Out>(load<uint8_t>(data, i)); break;
      case DType::kInt32: values[i] = static_cast<Out>(load<int32_t>(data, i)); break;
      case DType::kInt64: values[i] = static_cast<Out>(load<int64_t>(data, i)); break;
      case DType::kBool: values[i] = static_cast<Out>(load<uint8_t>(data, i) != 0); break;
      default:
        throw ConversionError("constant '" + tensor.name + "' has dtype " + dtype_name(tensor.dtype) +
                              ", which the converter cannot compute with");
    }
  }
  return values;
}

template <typename T>
void store(uint8_t* data, size_t index, T value) {
  std::memcpy(data + index * sizeof(T), &value, sizeof(T));
}

template <typename In>
IrTensor make_as(const std::string& name, DType dtype, std::vector<int64_t> shape, const std::vector<In>& values) {
  IrTensor tensor;
  tensor.name = name;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.is_constant = true;
  if (static_cast<size_t>(tensor.num_elements()) != values.size())
    throw ConversionError("internal: constant '" + name + "' built with the wrong number of values");
  tensor.allocate_data();
  uint8_t* data = tensor.data.data();
  for (size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DType::kFloat32: store(data, i, static_cast<float>(values[i])); break;
      case DType::kInt8: store(data, i, static_cast<int8_t>(values[i])); break;
      case DType::kUInt8: store(data, i, static_cast<uint8_t>(values[i])); break;
      case DType::kInt32: store(data, i, static_cast<int32_t>(values[i])); break;
      case DType::kInt64: store(data, i, static_cast<int64_t>(values[i])); break;
      case DType::kBool: store(data, i, static_cast<uint8_t>(values[i] != 0)); break;
      default:
        throw ConversionError("constant '" + name + "' would have dtype " + dtype_name(dtype) +
                              ", which the converter cannot compute with");
    }
  }
  return tensor;
}

}  // namespace

std::vector<int64_t> read_int64s(const IrTensor& tensor) { return read_as<int64_t>(tensor); }
std::vector<double> read_doubles(const IrTensor& tensor) { return read_as<double>(tensor); }
std::vector<float> read_floats(const IrTensor& tensor) { return read_as<float>(tensor); }

IrTensor make_constant_from_int64s(const std::string& name, DType dtype, std::vector<int64_t> shape,
                                   const std::vector<int64_t>& values) {
  return make_as(name, dtype, std::move(shape), values);
}
IrTensor make_constant_from_doubles(const std::string& name, DType dtype, std::vector<int64_t> shape,
                                    const std::vector<double>& values) {
  return make_as(name, dtype, std::move(shape), values);
}
IrTensor make_float_constant(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
  return make_as(name, DType::kFloat32, std::move(shape), values);
}
IrTensor make_int64_constant(const std::string& name, std::vector<int64_t> shape, const std::vector<int64_t>& values) {
  return make_as(name, DType::kInt64, std::move(shape), values);
}

}  // namespace edgegen::converter
