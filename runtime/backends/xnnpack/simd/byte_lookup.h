// y[i] = table[x[i]] over bytes: a quantized unary op's table
// (kernels/quantized_unary.h) applied to an int8 tensor. With AVX-512 VBMI,
// 64 bytes a step (two vpermi2b over the table's halves and a blend on the
// top bit); elsewhere a byte at a time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {
namespace simd {

bool has_byte_lookup_vbmi();

// `vbmi`: where the CPU has it (false: the portable loop, for tests).
void byte_lookup(const uint8_t table[256], const uint8_t* x, uint8_t* y, size_t n, bool vbmi = true);

}  // namespace simd
}  // namespace edgegen
