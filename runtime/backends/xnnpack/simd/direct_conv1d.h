// Direct 1-D convolution of few channels, channels-last: the register-tiled
// inner loop behind backends/xnnpack/small_channel_conv1d.h (a vocoder's
// dilated k3 and k1 convolutions and its polyphase transposed ones).
//
// A tile is kRows output positions x one block of 8 or 16 output channels,
// held in registers; every (tap, input channel) step broadcasts one input
// value per row and multiplies it by one packed weight vector. Each output
// is bias, then the taps in order, then the input channels in order, one
// fused multiply-add at a time: the same sum whether its row is computed in
// a full tile or alone, so a split of the rows between threads does not
// change a bit. Variants: AVX-512 and AVX2 + FMA (picked at run time),
// NEON, and plain C++ (the baseline elsewhere).
#pragma once

#include <cstdint>

namespace edgegen {
namespace simd {

// Output channels are packed in blocks of this many (zeros past C_out).
constexpr int64_t kDirectConvBlock = 8;

inline int64_t direct_conv_padded_channels(int64_t out_channels) {
  return (out_channels + kDirectConvBlock - 1) / kDirectConvBlock * kDirectConvBlock;
}

// `rows` outputs whose inputs are evenly spaced. Row r, tap t, input
// channel c reads x[r * x_step + t * tap_step + c] (tap_step may be
// negative) and weights[(t * in_channels + c) * padded_out + o].
struct DirectConvRows {
  const float* x = nullptr;
  int64_t x_step = 0, tap_step = 0, taps = 0, in_channels = 0;
  const float* weights = nullptr;  // [taps][in_channels][padded_out]
  const float* bias = nullptr;     // padded_out floats (zeros without a bias)
  int64_t padded_out = 0, out_channels = 0;
  float* y = nullptr;              // row r's channels at y + r * y_step
  int64_t y_step = 0, rows = 0;
  // Applied to the sums: clamp to [out_min, out_max], then x < 0 ? x * slope
  // : x when `leaky` (LeakyRelu; a plain ReLU or Clip is the clamp).
  float out_min = 0.f, out_max = 0.f, leaky_slope = 0.f;
  bool leaky = false;
};

void direct_conv1d_rows(const DirectConvRows& args);

// One output channel over contiguous windows (channels-last, dilation 1:
// a vocoder's 8 -> 1 output convolution): y[r] = clamp(bias + sum_j
// x[r * x_step + j] * w[j], out_min, out_max), j < count. Eight rows at a
// time, each a vector of partial sums reduced by one fixed tree: a row's
// sum does not depend on which rows share its group.
struct DirectDotRows {
  const float* x = nullptr;
  int64_t x_step = 0, count = 0;
  const float* w = nullptr;
  float bias = 0.f;
  float* y = nullptr;
  int64_t rows = 0;
  float out_min = 0.f, out_max = 0.f;
};
void direct_dot_rows(const DirectDotRows& args);
void direct_dot_rows_portable(const DirectDotRows& args);
void direct_dot_rows_avx2(const DirectDotRows& args);

// The variants themselves, for the tests (the backend test compares the
// one this CPU picks with the reference kernels; these let a test pin each
// one). has_direct_conv1d_avx2() / _avx512(): this CPU can run that one.
void direct_conv1d_rows_portable(const DirectConvRows& args);
bool has_direct_conv1d_avx2();
void direct_conv1d_rows_avx2(const DirectConvRows& args);
bool has_direct_conv1d_avx512();
void direct_conv1d_rows_avx512(const DirectConvRows& args);

}  // namespace simd
}  // namespace edgegen
