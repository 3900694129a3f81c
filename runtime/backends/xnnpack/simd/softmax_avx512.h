// Softmax rows on AVX-512 (F): see softmax_avx512.cc.
#pragma once

#include <cstddef>

namespace edgegen {
namespace simd {

bool has_softmax_avx512();

// simd::softmax_rows for one row of n values (in == out allowed); call
// only where has_softmax_avx512().
void softmax_row_avx512(const float* in, float* out, size_t n, float scale);

}  // namespace simd
}  // namespace edgegen
