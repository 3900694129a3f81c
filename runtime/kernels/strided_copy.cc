#include "kernels/strided_copy.h"

#include <cstring>

namespace edgegen {
namespace {

// The odometer over output dims [0, rank): `offset` follows the input
// element of the output index. kSize is the element size, a constant so
// each memcpy compiles to one move.
template <size_t kSize>
void copy_elements(const unsigned char* in, int64_t offset, unsigned char* out, const Shape& out_shape,
                   const int64_t* strides) {
  const int rank = out_shape.rank;
  const int64_t count = out_shape.num_elements();
  int64_t index[kMaxRank] = {};
  for (int64_t k = 0; k < count; ++k) {
    std::memcpy(out + k * kSize, in + offset * kSize, kSize);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < out_shape.dims[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (out_shape.dims[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace

void copy_strided(const void* in_data, int64_t offset, void* out_data, const Shape& out_shape, const int64_t* strides,
                  size_t element_size) {
  const auto* in = static_cast<const unsigned char*>(in_data);
  auto* out = static_cast<unsigned char*>(out_data);
  const int rank = out_shape.rank;
  if (out_shape.num_elements() == 0) return;
  if (rank >= 1 && strides[rank - 1] == 1 && out_shape.dims[rank - 1] > 1) {
    // Whole rows: an odometer over the dims before the last.
    const size_t row_bytes = static_cast<size_t>(out_shape.dims[rank - 1]) * element_size;
    const int64_t rows = out_shape.num_elements() / out_shape.dims[rank - 1];
    int64_t index[kMaxRank] = {};
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(out + static_cast<size_t>(r) * row_bytes, in + static_cast<size_t>(offset) * element_size,
                  row_bytes);
      for (int d = rank - 2; d >= 0; --d) {
        if (++index[d] < out_shape.dims[d]) {
          offset += strides[d];
          break;
        }
        offset -= strides[d] * (out_shape.dims[d] - 1);
        index[d] = 0;
      }
    }
    return;
  }
  switch (element_size) {
    case 1: return copy_elements<1>(in, offset, out, out_shape, strides);
    case 2: return copy_elements<2>(in, offset, out, out_shape, strides);
    case 4: return copy_elements<4>(in, offset, out, out_shape, strides);
    default: return copy_elements<8>(in, offset, out, out_shape, strides);
  }
}

}  // namespace edgegen
