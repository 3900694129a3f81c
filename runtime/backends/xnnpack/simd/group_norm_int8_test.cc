// simd::group_norm_int8 against the reference kernel (kernels/group_norm.cc):
// both layouts, the AVX-512 and the portable loops, odd channel counts and
// group sizes, images past one statistics chunk (2^16 pixels), in place.
// The same bits for no activation, ReLU and Clip; SiLU within one step.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "backends/xnnpack/simd/group_norm_int8.h"
#include "backends/xnnpack/simd/group_norm_int8_avx512.h"
#include "testing/kernel_runner.h"

using namespace edgegen;

namespace {

struct Case {
  size_t batch, channels, spatial, groups;
  ActivationKind act;
  float x_scale, y_scale;
  int32_t x_zp, y_zp;
};

std::vector<int8_t> values(size_t n, uint32_t seed) {
  std::vector<int8_t> v(n);
  uint32_t state = seed;
  for (int8_t& x : v) {
    state = state * 1664525u + 1013904223u;
    // Channels of different means and spreads: a skewed distribution.
    x = static_cast<int8_t>(static_cast<int32_t>(state >> 24) - 128 + static_cast<int32_t>((state >> 9) % 7) * 9 - 27);
  }
  return v;
}

std::vector<int8_t> reference(const Case& c, const std::vector<int8_t>& x_nchw, const std::vector<float>& gamma,
                              const std::vector<float>& beta) {
  std::vector<int32_t> q(x_nchw.begin(), x_nchw.end());
  testing::KernelRunner runner(OpCode::kGroupNorm);
  runner
      .input_quantized(DType::kInt8,
                       {static_cast<int64_t>(c.batch), static_cast<int64_t>(c.channels), static_cast<int64_t>(c.spatial)},
                       q, {c.x_scale}, {c.x_zp})
      .input({static_cast<int64_t>(c.channels)}, gamma, true)
      .input({static_cast<int64_t>(c.channels)}, beta, true)
      .ints({static_cast<int64_t>(c.groups)})
      .floats({1e-5f})
      .activation(c.act, -0.4f, 0.9f)
      .output_quantization({c.y_scale}, {c.y_zp});
  Status status = runner.run();
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  return runner.output_as<int8_t>();
}

}  // namespace

TEST_CASE("int8 GroupNorm (simd): both layouts, AVX-512 and portable, against the reference kernel") {
  const Case cases[] = {
      {2, 32, 64, 8, ActivationKind::kSilu, 0.05f, 0.02f, 3, -100},        // a UNet's norm + SiLU
      {1, 16, 256, 16, ActivationKind::kRelu, 0.03f, 0.02f, -7, -128},     // a decoder's InstanceNorm + ReLU
      {1, 20, 37, 5, ActivationKind::kNone, 0.04f, 0.03f, 0, 4},           // 20 channels: a masked tail
      {3, 35, 9, 7, ActivationKind::kClip, 0.02f, 0.01f, 12, -20},
      {1, 3, 70001, 1, ActivationKind::kSilu, 0.1f, 0.03f, -5, -60},       // past one chunk of 2^16 pixels
      {1, 48, 1, 4, ActivationKind::kNone, 0.05f, 0.05f, 0, 0},            // one pixel
      {1, 5, 13, 5, ActivationKind::kRelu, 0.05f, 0.05f, 1, -128},
  };
  for (const Case& c : cases) {
    CAPTURE(c.channels);
    CAPTURE(c.spatial);
    CAPTURE(static_cast<int>(c.act));
    const size_t n = c.batch * c.channels * c.spatial;
    const std::vector<int8_t> x = values(n, static_cast<uint32_t>(n + c.channels));
    std::vector<float> gamma, beta;
    for (size_t ch = 0; ch < c.channels; ++ch) {
      gamma.push_back((ch % 2 ? -0.6f : 0.9f) + 0.05f * static_cast<float>(ch % 5));
      beta.push_back(0.07f * static_cast<float>(ch % 4) - 0.1f);
    }
    const std::vector<int8_t> want = reference(c, x, gamma, beta);
    const int tolerance = c.act == ActivationKind::kSilu ? 1 : 0;

    simd::GroupNormInt8 g;
    g.batch = c.batch, g.channels = c.channels, g.spatial = c.spatial, g.groups = c.groups;
    g.gamma = gamma.data(), g.beta = beta.data(), g.x_scale = c.x_scale, g.epsilon = 1e-5f;
    g.output = quantized_group_norm_output(c.y_scale, c.y_zp, DType::kInt8);
    g.activation = {c.act, -0.4f, 0.9f};
    std::vector<int64_t> scratch(simd::group_norm_int8_scratch_bytes(c.channels) / sizeof(int64_t) + 1);
    for (bool avx512 : {true, false}) {
      if (avx512 && !simd::has_group_norm_int8_avx512()) continue;
      CAPTURE(avx512);
      g.avx512 = avx512;
      // Channels-first, in place.
      std::vector<int8_t> y = x;
      simd::group_norm_int8_nchw(g, y.data(), y.data(), scratch.data());
      int worst = 0;
      for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(y[i] - want[i]));
      CHECK(worst <= tolerance);
      // Channels-last, out of place.
      std::vector<int8_t> x_nhwc(n), y_nhwc(n);
      for (size_t b = 0; b < c.batch; ++b)
        for (size_t ch = 0; ch < c.channels; ++ch)
          for (size_t p = 0; p < c.spatial; ++p)
            x_nhwc[(b * c.spatial + p) * c.channels + ch] = x[(b * c.channels + ch) * c.spatial + p];
      simd::group_norm_int8_nhwc(g, x_nhwc.data(), y_nhwc.data(), scratch.data());
      worst = 0;
      for (size_t b = 0; b < c.batch; ++b)
        for (size_t ch = 0; ch < c.channels; ++ch)
          for (size_t p = 0; p < c.spatial; ++p)
            worst = std::max(worst, std::abs(y_nhwc[(b * c.spatial + p) * c.channels + ch] -
                                             want[(b * c.channels + ch) * c.spatial + p]));
      CHECK(worst <= tolerance);
    }
  }
}
