// The rows of simd::quantized_add on AVX-512 (F, BW): 32 values a step,
// each pair (a, b) summed by one vpmaddwd. The integer arithmetic of
// kernels/quantized_add.h, so the same bits as the portable loops (which
// GCC vectorizes through 32-bit multiplies at about a quarter of the speed).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/quantized_add.h"

namespace edgegen {
namespace simd {

bool has_quantized_add_avx512();

// y[i] = add(a[i], b[i]) for i < n.
void quantized_add_row_avx512(const QuantizedAdd& add, const int8_t* a, const int8_t* b, int8_t* y, size_t n);
// y[i] = add(a[i], b) for i < n.
void quantized_add_row_one_value_avx512(const QuantizedAdd& add, const int8_t* a, int32_t b, int8_t* y, size_t n);

}  // namespace simd
}  // namespace edgegen
