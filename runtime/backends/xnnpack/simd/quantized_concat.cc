#include "backends/xnnpack/simd/quantized_concat.h"

#include <cstring>

#include "backends/xnnpack/simd/quantized_add.h"

namespace edgegen {
namespace simd {
namespace {

void row(const QuantizedConcatInput& in, const int8_t* x, size_t step, int8_t* y, size_t n) {
  if (!in.copy) return requantize_row(in.requantize, x, step, y, n);
  if (step == 1) {
    std::memcpy(y, x, n);
    return;
  }
  for (size_t i = 0; i < n; ++i) y[i] = x[i * step];
}

}  // namespace

void quantized_concat(const QuantizedConcatInput* inputs, size_t count, int8_t* y, size_t batch, size_t channels,
                      size_t pixels, bool y_nhwc) {
  size_t first_channel = 0;
  for (size_t k = 0; k < count; ++k) {
    const QuantizedConcatInput& in = inputs[k];
    const size_t c_in = in.channels;
    for (size_t n = 0; n < batch; ++n) {
      const int8_t* x = in.data + n * c_in * pixels;
      if (y_nhwc) {  // one row of this input's channels per pixel
        for (size_t p = 0; p < pixels; ++p)
          row(in, in.nhwc ? x + p * c_in : x + p, in.nhwc ? 1 : pixels, y + (n * pixels + p) * channels + first_channel,
              c_in);
      } else {  // one row of pixels per channel
        for (size_t c = 0; c < c_in; ++c)
          row(in, in.nhwc ? x + c : x + c * pixels, in.nhwc ? c_in : 1,
              y + (n * channels + first_channel + c) * pixels, pixels);
      }
    }
    first_channel += c_in;
  }
}

}  // namespace simd
}  // namespace edgegen
