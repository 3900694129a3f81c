#include "edgegen/tensor.h"

#include <cstdio>

namespace edgegen {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return 4;
    case DType::kFloat16: return 2;
    case DType::kInt8: return 1;
    case DType::kUInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kBool: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kFloat16: return "float16";
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
  }
  return "unknown";
}

const char* format_shape(const Shape& shape, char* buffer, size_t capacity) {
  if (capacity == 0) return buffer;
  size_t used = 0;
  buffer[0] = '\0';
  auto append = [&](const char* text) {
    int n = std::snprintf(buffer + used, capacity - used, "%s", text);
    if (n > 0) used += static_cast<size_t>(n) < capacity - used ? static_cast<size_t>(n) : capacity - used - 1;
  };
  append("[");
  for (int i = 0; i < shape.rank; ++i) {
    char dim[32];
    std::snprintf(dim, sizeof dim, i == 0 ? "%lld" : ", %lld", static_cast<long long>(shape.dims[i]));
    append(dim);
  }
  append("]");
  return buffer;
}

}  // namespace edgegen
