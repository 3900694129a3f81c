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

// Affine quantization of an integer tensor: real = scale * (q - zero_point),
// with one (scale, zero point) for the whole tensor (axis < 0) or one per
// slice along `axis` (per-output-channel weights). Borrowed from the model,
// which load verified: scales finite and > 0, zero points in the dtype's range.
struct Quantization {
  const float* scales = nullptr;         // `count` values
  const int64_t* zero_points = nullptr;  // `count` values, or one for all (shared_zero_point)
  uint32_t count = 0;                    // 0: the tensor is not quantized
  int16_t axis = -1;                     // the per-slice axis; -1 = per tensor
  // Per-axis scales with one zero point for every slice (how the converter
  // stores symmetric weights: their zero points are all 0). int16 axis and
  // this flag keep the struct the size it had (edgegen/data_model.h).
  bool shared_zero_point = false;

  bool present() const { return count > 0; }
  bool per_tensor() const { return count == 1 && axis < 0; }
  float scale(size_t i = 0) const { return scales[count == 1 ? 0 : i]; }
  int32_t zero_point(size_t i = 0) const {
    return static_cast<int32_t>(zero_points[count == 1 || shared_zero_point ? 0 : i]);
  }
  uint32_t zero_point_count() const { return shared_zero_point ? 1 : count; }
};

struct Tensor {
  const char* name = "";           // borrowed from the model
  DType dtype = DType::kFloat32;
  Shape shape;
  void* data = nullptr;            // borrowed: model weights or an arena slot
  Quantization quant;              // int8 / uint8 / int32 tensors of quantized models

  size_t num_elements() const { return static_cast<size_t>(shape.num_elements()); }
  size_t bytes() const { return num_elements() * dtype_size(dtype); }
  template <typename T>
  T* data_as() const { return static_cast<T*>(data); }
};

}  // namespace edgegen
