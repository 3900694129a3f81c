#include "backends/xnnpack/simd/depthwise_rows.h"

#include "core/vector_math.h"

namespace edgegen {
namespace simd {
namespace {

constexpr size_t kBlock = 32;  // channels whose sums stay in registers across the taps

}  // namespace

// Per output row, the taps that land inside the input, then blocks of
// kBlock channels whose sums stay in registers over those taps (the
// compiler unrolls the fixed-size loops into vectors); the last channels
// in a loop of their own. One function, so the dispatch to the CPU's clone
// happens once per call.
EG_VECTOR_CLONES void depthwise_rows(const DepthwiseRows& d, const float* x, float* y, int64_t t_begin,
                                     int64_t t_end) {
  const size_t channels = d.channels, full = channels / kBlock * kBlock;
  for (int64_t t = t_begin; t < t_end; ++t) {
    const int64_t base = t * d.stride - d.pad;
    // Taps k with 0 <= base + k * dilation < in_w.
    int64_t k_begin = 0, k_end = d.kernel;
    if (base < 0) k_begin = (-base + d.dilation - 1) / d.dilation;
    const int64_t last = d.in_w - 1 - base;  // largest k * dilation allowed
    if (last < 0) k_end = 0;
    else if (last / d.dilation + 1 < k_end) k_end = last / d.dilation + 1;
    float* out = y + static_cast<size_t>(t) * channels;
    for (size_t c0 = 0; c0 < full; c0 += kBlock) {
      float acc[kBlock];
      for (size_t c = 0; c < kBlock; ++c) acc[c] = d.bias[c0 + c];
      for (int64_t k = k_begin; k < k_end; ++k) {
        const float* xr = x + static_cast<size_t>(base + k * d.dilation) * channels + c0;
        const float* wk = d.weights + static_cast<size_t>(k) * channels + c0;
        for (size_t c = 0; c < kBlock; ++c) acc[c] += wk[c] * xr[c];
      }
      for (size_t c = 0; c < kBlock; ++c) out[c0 + c] = acc[c];
    }
    if (full == channels) continue;
    for (size_t c = full; c < channels; ++c) out[c] = d.bias[c];
    for (int64_t k = k_begin; k < k_end; ++k) {
      const float* xr = x + static_cast<size_t>(base + k * d.dilation) * channels;
      const float* wk = d.weights + static_cast<size_t>(k) * channels;
      for (size_t c = full; c < channels; ++c) out[c] += wk[c] * xr[c];
    }
  }
}

}  // namespace simd
}  // namespace edgegen
