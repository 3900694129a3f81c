#include "backends/xnnpack/simd/quantized_add.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

std::vector<int32_t> int8_values(size_t n, uint32_t seed) {
  std::vector<int32_t> values(n);
  uint32_t state = seed;
  for (int32_t& v : values) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<int32_t>((state >> 8) % 256u) - 128;
  }
  return values;
}

// [N, C, P] -> [N, P, C]
std::vector<int8_t> to_nhwc(const std::vector<int8_t>& x, size_t n, size_t c, size_t p) {
  std::vector<int8_t> y(x.size());
  for (size_t b = 0; b < n; ++b)
    for (size_t ch = 0; ch < c; ++ch)
      for (size_t i = 0; i < p; ++i) y[(b * p + i) * c + ch] = x[(b * c + ch) * p + i];
  return y;
}

TEST_CASE("simd::quantized_add gives the reference kernel's bits in every layout and broadcast") {
  struct Case {
    size_t batch, channels, height, width;
    enum Kind { kFull, kPerChannel, kBatchPerChannel, kScalar } b_kind;
    bool a_nhwc, b_nhwc, y_nhwc, swap;
    ActivationKind act;
    float y_scale = 0.07f;
  };
  const Case cases[] = {
      {1, 19, 5, 7, Case::kFull, false, false, false, false, ActivationKind::kNone},
      {1, 19, 5, 7, Case::kFull, true, true, true, false, ActivationKind::kRelu},
      {2, 33, 3, 4, Case::kFull, true, false, true, false, ActivationKind::kNone},    // mixed layouts
      {2, 33, 3, 4, Case::kFull, false, true, false, false, ActivationKind::kClip},
      {1, 70, 4, 4, Case::kPerChannel, true, false, true, false, ActivationKind::kNone},  // timestep embedding
      {1, 70, 4, 4, Case::kPerChannel, false, false, false, true, ActivationKind::kNone},
      {2, 24, 2, 3, Case::kBatchPerChannel, true, false, true, true, ActivationKind::kRelu},
      {3, 17, 1, 9, Case::kScalar, false, false, false, false, ActivationKind::kNone},
      {2, 40, 1, 1, Case::kFull, false, false, true, false, ActivationKind::kNone},  // one pixel
      // sums far past int16 before the clamp (the 16-bit lanes saturate)
      {1, 37, 3, 3, Case::kFull, true, true, true, false, ActivationKind::kNone, 0.0001f},
      {1, 37, 3, 3, Case::kPerChannel, true, false, true, false, ActivationKind::kRelu, 0.0001f},
  };
  for (const Case& c : cases) {
    CAPTURE(c.channels);
    CAPTURE(static_cast<int>(c.b_kind));
    const size_t pixels = c.height * c.width, n = c.batch * c.channels * pixels;
    const std::vector<int64_t> shape = {static_cast<int64_t>(c.batch), static_cast<int64_t>(c.channels),
                                        static_cast<int64_t>(c.height), static_cast<int64_t>(c.width)};
    std::vector<int64_t> b_shape = shape;
    if (c.b_kind == Case::kPerChannel) b_shape = {1, shape[1], 1, 1};
    if (c.b_kind == Case::kBatchPerChannel) b_shape = {shape[0], shape[1], 1, 1};
    if (c.b_kind == Case::kScalar) b_shape = {1};
    size_t b_count = 1;
    for (int64_t d : b_shape) b_count *= static_cast<size_t>(d);
    const std::vector<int32_t> a_values = int8_values(n, 5u), b_values = int8_values(b_count, 77u);
    const float a_scale = 0.03f, b_scale = 0.05f, y_scale = c.y_scale;
    const int64_t a_zp = -3, b_zp = 9, y_zp = 4;

    KernelRunner reference(OpCode::kAdd);
    if (c.swap) {
      reference.input_quantized(DType::kInt8, b_shape, b_values, {b_scale}, {b_zp})
          .input_quantized(DType::kInt8, shape, a_values, {a_scale}, {a_zp});
    } else {
      reference.input_quantized(DType::kInt8, shape, a_values, {a_scale}, {a_zp})
          .input_quantized(DType::kInt8, b_shape, b_values, {b_scale}, {b_zp});
    }
    reference.activation(c.act, -0.4f, 0.9f).output_quantization({y_scale}, {y_zp});
    REQUIRE(reference.run().is_ok());
    std::vector<int8_t> want = reference.output_as<int8_t>();
    if (c.y_nhwc) want = to_nhwc(want, c.batch, c.channels, pixels);

    std::vector<int8_t> a(a_values.begin(), a_values.end()), b(b_values.begin(), b_values.end());
    if (c.a_nhwc) a = to_nhwc(a, c.batch, c.channels, pixels);
    const bool b_full = c.b_kind == Case::kFull;
    if (b_full && c.b_nhwc) b = to_nhwc(b, c.batch, c.channels, pixels);
    auto operand = [&](const std::vector<int8_t>& data, bool full, bool nhwc, bool batched) {
      simd::QuantizedAddOperand o;
      o.data = data.data();
      if (full) {
        o.batch_stride = c.channels * pixels;
        o.channel_stride = nhwc ? 1 : pixels;
        o.pixel_stride = nhwc ? c.channels : 1;
      } else if (c.b_kind != Case::kScalar) {
        o.batch_stride = batched ? c.channels : 0;
        o.channel_stride = 1;
      }
      return o;
    };
    const simd::QuantizedAddOperand oa = operand(a, true, c.a_nhwc, true);
    const simd::QuantizedAddOperand ob = operand(b, b_full, c.b_nhwc, c.b_kind == Case::kBatchPerChannel);
    QuantizedRange range = quantized_range(DType::kInt8);
    if (c.act == ActivationKind::kRelu) range.min = static_cast<int32_t>(y_zp);
    if (c.act == ActivationKind::kClip) {
      range.min = static_cast<int32_t>(std::nearbyint(-0.4f / y_scale) + y_zp);
      range.max = static_cast<int32_t>(std::nearbyint(0.9f / y_scale) + y_zp);
    }
    QuantizedAdd add;
    // The operands in the reference's order: swapping them swaps the multipliers.
    if (c.swap) REQUIRE(make_quantized_add(b_scale, b_zp, a_scale, a_zp, y_scale, y_zp, range, &add));
    else REQUIRE(make_quantized_add(a_scale, a_zp, b_scale, b_zp, y_scale, y_zp, range, &add));
    for (bool avx512 : {true, false}) {
      CAPTURE(avx512);
      std::vector<int8_t> got(n);
      simd::quantized_add(add, c.swap ? ob : oa, c.swap ? oa : ob, got.data(),
                          {c.batch, c.channels, pixels, c.y_nhwc}, avx512);
      CHECK(got == want);
    }
  }
}

}  // namespace
}  // namespace edgegen
