// The direct 1-D convolution's variants (simd/direct_conv1d.h) against a
// plain double-precision loop: every tile shape (wide, narrow, one row),
// channel tails, negative tap steps, strided outputs and the activations.
// The backend test (xnnpack_backend_test.cc) compares whole ops, on the
// variant this CPU picks, with the reference kernels; this one also pins
// the portable variant (and AVX2 on a CPU that would pick AVX-512).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "backends/xnnpack/simd/direct_conv1d.h"

using namespace edgegen;
using simd::DirectConvRows;

namespace {

float value(uint64_t i, uint64_t seed) {
  const uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed * 0xBF58476D1CE4E5B9ull;
  return static_cast<float>((h >> 40) % 2001) / 1000.f - 1.f;
}

void check(void (*variant)(const DirectConvRows&), int64_t in_channels, int64_t out_channels, int64_t taps,
           int64_t rows, int64_t x_step, int64_t tap_step, int64_t y_step, bool leaky) {
  const int64_t padded = simd::direct_conv_padded_channels(out_channels);
  // The input around an origin in its middle, so that negative steps stay inside.
  const int64_t reach = (rows + 1) * std::abs(x_step) + (taps + 1) * std::abs(tap_step) + in_channels;
  std::vector<float> x(static_cast<size_t>(2 * reach)), w(static_cast<size_t>(taps * in_channels * padded)),
      bias(static_cast<size_t>(padded)), y(static_cast<size_t>(rows * y_step + padded), 7.f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = value(i, 1);
  for (size_t i = 0; i < w.size(); ++i) w[i] = value(i, 2);
  for (int64_t o = 0; o < padded; ++o) bias[o] = o < out_channels ? value(o, 3) : 0.f;
  DirectConvRows a;
  a.x = x.data() + reach;
  a.x_step = x_step;
  a.tap_step = tap_step;
  a.taps = taps;
  a.in_channels = in_channels;
  a.weights = w.data();
  a.bias = bias.data();
  a.padded_out = padded;
  a.out_channels = out_channels;
  a.y = y.data();
  a.y_step = y_step;
  a.rows = rows;
  a.out_min = leaky ? -INFINITY : -0.5f;
  a.out_max = leaky ? INFINITY : 2.f;
  a.leaky = leaky;
  a.leaky_slope = 0.2f;
  variant(a);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < y_step; ++o) {
      const float got = y[r * y_step + o];
      if (o >= out_channels) {  // past the channels: not written
        CHECK(got == 7.f);
        continue;
      }
      double sum = bias[o];
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t c = 0; c < in_channels; ++c)
          sum += double(a.x[r * x_step + t * tap_step + c]) * w[(t * in_channels + c) * padded + o];
      sum = std::fmin(std::fmax(sum, a.out_min), a.out_max);
      if (leaky && sum < 0) sum *= 0.2;
      CHECK(std::fabs(got - sum) <= 1e-4 * (1 + std::fabs(sum)));
    }
}

void check_all(void (*variant)(const DirectConvRows&)) {
  for (int64_t out_channels : {1, 5, 8, 12, 16, 24, 40, 64})
    for (int64_t rows : {1, 5, 6, 7, 8, 13, 30}) {
      CAPTURE(out_channels);
      CAPTURE(rows);
      check(variant, 8, out_channels, 3, rows, 8, 8 * 3, out_channels, rows % 2 == 0);  // dilation 3
      check(variant, 3, out_channels, 2, rows, 3, -3, 4 * out_channels, false);         // a transposed phase
    }
  for (int64_t rows : {12, 16, 29, 40}) {  // AVX-512's two-rows-per-register tiles (8 or 16 -> 8) and their tails
    CAPTURE(rows);
    check(variant, 8, 8, 3, rows, 8, 8, 8, true);
    check(variant, 16, 8, 2, rows, 16, -16, 32, false);
  }
  check(variant, 64, 16, 1, 9, 64, 0, 16, true);  // k1 over many input channels
  check(variant, 5, 8, 0, 4, 5, 5, 8, false);     // no taps: the bias
}

}  // namespace

TEST_CASE("direct 1-D convolution: the portable variant against a plain loop") {
  check_all(simd::direct_conv1d_rows_portable);
}

TEST_CASE("direct 1-D convolution: the AVX2 and AVX-512 variants (where the CPU has them) against a plain loop") {
  if (simd::has_direct_conv1d_avx2()) check_all(simd::direct_conv1d_rows_avx2);
  if (simd::has_direct_conv1d_avx512()) check_all(simd::direct_conv1d_rows_avx512);
}

namespace {

void check_dot(void (*variant)(const simd::DirectDotRows&)) {
  for (int64_t count : {1, 7, 8, 21, 56, 64})
    for (int64_t rows : {1, 3, 8, 9, 17}) {
      CAPTURE(count);
      CAPTURE(rows);
      const int64_t step = count % 3 + 2;  // windows overlapping as a convolution's do
      std::vector<float> x(static_cast<size_t>(rows * step + count)), w(static_cast<size_t>(count)),
          y(static_cast<size_t>(rows + 1), 7.f);
      for (size_t i = 0; i < x.size(); ++i) x[i] = value(i, 4);
      for (size_t i = 0; i < w.size(); ++i) w[i] = value(i, 5);
      simd::DirectDotRows a;
      a.x = x.data();
      a.x_step = step;
      a.count = count;
      a.w = w.data();
      a.bias = 0.25f;
      a.y = y.data();
      a.rows = rows;
      a.out_min = -1.5f;
      a.out_max = 1.5f;
      variant(a);
      for (int64_t r = 0; r < rows; ++r) {
        double sum = a.bias;
        for (int64_t j = 0; j < count; ++j) sum += double(x[r * step + j]) * w[j];
        sum = std::fmin(std::fmax(sum, -1.5), 1.5);
        CHECK(std::fabs(y[r] - sum) <= 1e-5 * (1 + std::fabs(sum)));
      }
      CHECK(y[rows] == 7.f);  // nothing written past the rows
    }
}

}  // namespace

TEST_CASE("one-output-channel dot products: portable and AVX2 variants against a plain loop") {
  check_dot(simd::direct_dot_rows_portable);
  if (simd::has_direct_conv1d_avx2()) check_dot(simd::direct_dot_rows_avx2);
}
