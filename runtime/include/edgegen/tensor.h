// Tensors as the runtime sees them: a dtype, a static shape and a pointer to
// data the tensor does not own (model weights or a slot of the arena).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {

// Same numbering as format::DType in schemas/edgegen.fbs.
enum class DType : uint32_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt8 = 2,
  kUInt8 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kBool = 6,
};
constexpr uint32_t kNumDTypes = 7;

// Bytes per element; 0 for an unknown dtype.
size_t dtype_size(DType dtype);
// "float32", "int64", ...; "unknown" for an unknown dtype.
const char* dtype_name(DType dtype);

constexpr int kMaxRank = 8;

struct Shape {
  int rank = 0;
  int64_t dims[kMaxRank] = {};

  // Product of the dimensions (1 for a scalar). Assumes a verified shape.
  int64_t num_elements() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  bool operator==(const Shape& other) const {
    if (rank != other.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != other.dims[i]) return false;
    return true;
  }
  bool operator!=(const Shape& other) const { return !(*this == other); }
};

// Formats a shape as "[1, 3, 16, 16]" into `buffer`; returns `buffer`.
const char* format_shape(const Shape& shape, char* buffer, size_t capacity);

struct Tensor {
  const char* name = "";           // borrowed from the model
  DType dtype = DType::kFloat32;
  Shape shape;
  void* data = nullptr;            // borrowed: model weights or an arena slot

  size_t num_elements() const { return static_cast<size_t>(shape.num_elements()); }
  size_t bytes() const { return num_elements() * dtype_size(dtype); }
  template <typename T>
  T* data_as() const { return static_cast<T*>(data); }
};

}  // namespace edgegen
