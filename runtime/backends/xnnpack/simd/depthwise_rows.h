// The rows of a depthwise 1-D convolution, channels-last: see
// backends/xnnpack/depthwise_conv1d.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {
namespace simd {

struct DepthwiseRows {
  size_t channels = 0;
  int64_t in_w = 0, kernel = 0, stride = 1, dilation = 1, pad = 0;
  const float* weights = nullptr;  // [kernel][channels]
  const float* bias = nullptr;     // [channels]
};

// y[t][c] = bias[c] + sum over k of w[k][c] x[t stride + k dilation - pad][c]
// for output rows t in [t_begin, t_end), the taps outside the input left
// out (zero padding), added in increasing k: x [in_w, channels],
// y [out_w, channels] of one image.
void depthwise_rows(const DepthwiseRows& d, const float* x, float* y, int64_t t_begin, int64_t t_end);

}  // namespace simd
}  // namespace edgegen
