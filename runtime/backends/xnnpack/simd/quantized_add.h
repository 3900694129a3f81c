// Add of two int8 tensors into an int8 tensor (kernels/quantized_add.h has
// the arithmetic, which the reference kernel shares: the same bits): an int8
// decoder's residual connections and timestep embeddings, in one pass
// between int8 ops instead of two dequantizes, a float add and a quantize.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/quantized_add.h"

namespace edgegen {
namespace simd {

// Where an operand's element (n, c, p) is: data[n * batch_stride +
// c * channel_stride + p * pixel_stride]. A stride of 0 broadcasts, so an
// operand may be the output's shape in either layout, one value per channel
// ([N, C, 1, 1], a timestep embedding) or a single value.
struct QuantizedAddOperand {
  const int8_t* data = nullptr;
  size_t batch_stride = 0, channel_stride = 0, pixel_stride = 0;
};

struct QuantizedAddShape {
  size_t batch = 0, channels = 0, pixels = 0;
  bool nhwc = false;  // the output's layout: [N, P, C] or [N, C, P]
};

// y (dense, in shape.nhwc's layout) = a + b. y may be a or b when that
// operand is the output's shape and layout. `avx512`: where the CPU has it
// (false: the portable loops, for tests; the same bits).
void quantized_add(const QuantizedAdd& add, const QuantizedAddOperand& a, const QuantizedAddOperand& b, int8_t* y,
                   const QuantizedAddShape& shape, bool avx512 = true);

// y[i] = requantize(x[i * step], 0) for i < n: a row of a requantizing
// copy (make_quantized_requantize; an int8 Concat's input of another scale).
void requantize_row(const QuantizedAdd& requantize, const int8_t* x, size_t step, int8_t* y, size_t n,
                    bool avx512 = true);

}  // namespace simd
}  // namespace edgegen
