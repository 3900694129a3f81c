// Copies a strided view of a tensor into a contiguous one: what Slice and
// Transpose do (and any op that only moves elements). Output rows whose
// elements are contiguous in the input (a last dim of stride 1: the q, k,
// v slices of an attention's fused projection, a [B, T, H, D] ->
// [B, H, T, D] transpose) move as one memcpy each; anything else element
// by element, an odometer over the output keeping the input offset.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/tensor.h"

namespace edgegen {

// out[i0, ..., ik] = in[offset + sum_d i_d * strides[d]] (in elements of
// `element_size` bytes, 1, 2, 4 or 8) for every index of `out_shape`.
void copy_strided(const void* in, int64_t offset, void* out, const Shape& out_shape, const int64_t* strides,
                  size_t element_size);

}  // namespace edgegen
