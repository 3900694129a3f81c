// Resize reference kernel. ints: {mode (0 nearest, 1 linear), coordinate
// transform (0 half_pixel, 1 asymmetric, 2 align_corners, 3 pytorch_half_pixel),
// nearest rounding (0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil),
// out_h, out_w}; floats: {scale_h, scale_w}.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;
using Dims = std::vector<int64_t>;

// Element-wise comparison; doctest's Approx is relative with an absolute floor of `tolerance`.
void check_values(const std::vector<float>& actual, const std::vector<float>& expected, double tolerance = 1e-6) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    INFO("element ", i);
    CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(tolerance));
  }
}

// 1, 2, ..., count: the input of most ONNX Resize test cases.
std::vector<float> one_to(size_t count) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = static_cast<float>(i + 1);
  return values;
}

std::vector<float> resize(Dims shape, std::vector<float> x, std::vector<int64_t> ints, std::vector<float> scales,
                          Dims* out_shape) {
  KernelRunner runner(OpCode::kResize);
  runner.input(shape, x).ints(ints).floats(scales);
  Status status = runner.run();
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  *out_shape = runner.output_shape();
  return runner.output_values();
}

// ONNX backend test data (onnx/backend/test/data/node/test_resize_*), with scales or sizes
// turned into {out_h, out_w} and {scale_h, scale_w} (output / input when sizes were given).
TEST_CASE("Resize: ONNX test_resize_upsample_scales_linear") {
  Dims shape;
  check_values(resize({1, 1, 2, 2}, one_to(4), {1, 0, 0, 4, 4}, {2, 2}, &shape),
               {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4});
  CHECK(shape == Dims{1, 1, 4, 4});
}

TEST_CASE("Resize: ONNX test_resize_upsample_scales_linear_align_corners") {
  Dims shape;
  check_values(resize({1, 1, 2, 2}, one_to(4), {1, 2, 0, 4, 4}, {2, 2}, &shape),
               {1, 1.3333334f, 1.6666666f, 2, 1.6666666f, 2, 2.3333333f, 2.6666667f, 2.3333333f, 2.6666667f, 3,
                3.3333333f, 3, 3.3333333f, 3.6666667f, 4},
               1e-5);
}

TEST_CASE("Resize: ONNX test_resize_downsample_scales_linear (no antialias)") {
  Dims shape;
  check_values(resize({1, 1, 2, 4}, one_to(8), {1, 0, 0, 1, 2}, {0.6f, 0.6f}, &shape), {2.6666665f, 4.333333f}, 1e-5);
  CHECK(shape == Dims{1, 1, 1, 2});
}

TEST_CASE("Resize: ONNX test_resize_downsample_scales_linear_align_corners") {
  // The resized length is 4 * 0.6 = 2.4, not the output size 2: x_original = 1 * 3 / 1.4.
  Dims shape;
  check_values(resize({1, 1, 2, 4}, one_to(8), {1, 2, 0, 1, 2}, {0.6f, 0.6f}, &shape), {1, 3.1428571f}, 1e-5);
}

TEST_CASE("Resize: ONNX test_resize_downsample_sizes_linear_pytorch_half_pixel") {
  Dims shape;
  check_values(resize({1, 1, 4, 4}, one_to(16), {1, 3, 0, 3, 1}, {0.75f, 0.25f}, &shape),
               {1.6666666f, 7, 12.333333f}, 1e-5);
  CHECK(shape == Dims{1, 1, 3, 1});
}

TEST_CASE("Resize: ONNX test_resize_upsample_scales_nearest") {
  Dims shape;
  check_values(resize({1, 1, 2, 2}, one_to(4), {0, 0, 0, 4, 6}, {2, 3}, &shape),
               {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
  CHECK(shape == Dims{1, 1, 4, 6});
}

TEST_CASE("Resize: ONNX test_resize_downsample_scales_nearest and _sizes_nearest") {
  Dims shape;
  check_values(resize({1, 1, 2, 4}, one_to(8), {0, 0, 0, 1, 2}, {0.6f, 0.6f}, &shape), {1, 3});
  check_values(resize({1, 1, 2, 4}, one_to(8), {0, 0, 0, 1, 3}, {0.5f, 0.75f}, &shape), {1, 2, 4});
  CHECK(shape == Dims{1, 1, 1, 3});
}

TEST_CASE("Resize: ONNX test_resize_upsample_sizes_nearest") {
  Dims shape;
  const std::vector<float> top = {1, 1, 1, 1, 2, 2, 2, 2}, bottom = {3, 3, 3, 3, 4, 4, 4, 4};
  std::vector<float> expected;
  for (int row = 0; row < 7; ++row) expected.insert(expected.end(), row < 4 ? top.begin() : bottom.begin(),
                                                    row < 4 ? top.end() : bottom.end());
  check_values(resize({1, 1, 2, 2}, one_to(4), {0, 0, 0, 7, 8}, {3.5f, 4}, &shape), expected);
  CHECK(shape == Dims{1, 1, 7, 8});
}

// The three 4x4 -> 8x8 nearest cases of ONNX: each row of the output picks
// rows of one_to(16) the same way the columns are picked.
std::vector<float> pick(const std::vector<int>& index) {
  std::vector<float> values;
  for (int r : index)
    for (int c : index) values.push_back(static_cast<float>(r * 4 + c + 1));
  return values;
}

TEST_CASE("Resize: ONNX test_resize_upsample_sizes_nearest_ceil_half_pixel") {
  Dims shape;
  check_values(resize({1, 1, 4, 4}, one_to(16), {0, 0, 3, 8, 8}, {2, 2}, &shape), pick({0, 1, 1, 2, 2, 3, 3, 3}));
}

TEST_CASE("Resize: ONNX test_resize_upsample_sizes_nearest_floor_align_corners") {
  Dims shape;
  check_values(resize({1, 1, 4, 4}, one_to(16), {0, 2, 2, 8, 8}, {2, 2}, &shape), pick({0, 0, 0, 1, 1, 2, 2, 3}));
}

TEST_CASE("Resize: ONNX test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric") {
  Dims shape;
  check_values(resize({1, 1, 4, 4}, one_to(16), {0, 1, 1, 8, 8}, {2, 2}, &shape), pick({0, 1, 1, 2, 2, 3, 3, 3}));
}

TEST_CASE("Resize: the four nearest rounding modes at exact halves") {
  // half_pixel with scale 0.5 maps outputs 0, 1 to x_original 0.5, 2.5.
  const std::vector<float> x = {10, 20, 30, 40};
  Dims shape;
  check_values(resize({1, 1, 1, 4}, x, {0, 0, 0, 1, 2}, {1, 0.5f}, &shape), {10, 30});  // round_prefer_floor
  check_values(resize({1, 1, 1, 4}, x, {0, 0, 1, 1, 2}, {1, 0.5f}, &shape), {20, 40});  // round_prefer_ceil
  check_values(resize({1, 1, 1, 4}, x, {0, 0, 2, 1, 2}, {1, 0.5f}, &shape), {10, 30});  // floor
  check_values(resize({1, 1, 1, 4}, x, {0, 0, 3, 1, 2}, {1, 0.5f}, &shape), {20, 40});  // ceil
}

TEST_CASE("Resize: a single output column, half_pixel versus pytorch_half_pixel") {
  // half_pixel: x_original = 0.5 / 0.25 - 0.5 = 1.5; pytorch_half_pixel pins a length-1 output to 0.
  const std::vector<float> x = {10, 20, 30, 40};
  Dims shape;
  check_values(resize({1, 1, 1, 4}, x, {1, 0, 0, 1, 1}, {1, 0.25f}, &shape), {25});
  check_values(resize({1, 1, 1, 4}, x, {1, 3, 0, 1, 1}, {1, 0.25f}, &shape), {10});
}

TEST_CASE("Resize: align_corners with sizes whose scale is not exact in float") {
  // 13 -> 7 with scale 7/13: x_original = x * 12 / 6 must be exactly 2x for floor rounding, though
  // 13 * float(7 / 13) - 1 is not 6 in float.
  std::vector<float> x(13);
  for (int i = 0; i < 13; ++i) x[i] = static_cast<float>(i);
  Dims shape;
  check_values(resize({1, 1, 1, 13}, x, {0, 2, 2, 1, 7}, {1, 7.f / 13.f}, &shape), {0, 2, 4, 6, 8, 10, 12});
}

TEST_CASE("Resize: 3-D input resizes its last axis") {
  // ONNX reference interpolate_nd, linear half_pixel, scale 2: clamped edges give 0 and 6.
  Dims shape;
  check_values(resize({1, 1, 3}, {0, 3, 6}, {1, 0, 0, 1, 6}, {1, 2}, &shape), {0, 0.75f, 2.25f, 3.75f, 5.25f, 6});
  CHECK(shape == Dims{1, 1, 6});
}

TEST_CASE("Resize: batches and channels resize independently") {
  // x = arange(8).reshape(2, 2, 1, 2), linear asymmetric, H x2 and W x1.5.
  std::vector<float> x(8);
  for (int i = 0; i < 8; ++i) x[i] = static_cast<float>(i);
  Dims shape;
  const float t = 2.f / 3.f;
  check_values(resize({2, 2, 1, 2}, x, {1, 1, 0, 2, 3}, {2, 1.5f}, &shape),
               {0, t, 1, 0, t, 1, 2, 2 + t, 3, 2, 2 + t, 3, 4, 4 + t, 5, 4, 4 + t, 5, 6, 6 + t, 7, 6, 6 + t, 7}, 1e-5);
  CHECK(shape == Dims{2, 2, 2, 3});
}

TEST_CASE("Resize: one element") {
  Dims shape;
  check_values(resize({1, 1, 1, 1}, {5}, {1, 0, 0, 2, 3}, {2, 3}, &shape), {5, 5, 5, 5, 5, 5});
  check_values(resize({1, 1, 1, 1}, {5}, {0, 2, 0, 1, 1}, {1, 1}, &shape), {5});
}

TEST_CASE("Resize: empty tensors") {
  Dims shape;
  resize({0, 3, 2, 2}, {}, {1, 0, 0, 4, 4}, {2, 2}, &shape);
  CHECK(shape == Dims{0, 3, 4, 4});
  resize({1, 1, 2, 2}, one_to(4), {0, 0, 0, 0, 4}, {0.25f, 2}, &shape);
  CHECK(shape == Dims{1, 1, 0, 4});
  resize({1, 1, 2, 0}, {}, {0, 0, 0, 4, 0}, {2, 2}, &shape);
  CHECK(shape == Dims{1, 1, 4, 0});
}

TEST_CASE("Resize: nearest resizes int8 and uint8 by copying (an int8 decoder's upsampling); linear refuses them") {
  // The float case's picks, on integers: every rounding and transform reads the same source as in float.
  const std::vector<int32_t> values{-128, -3, 0, 7, 100, 127};
  std::vector<float> as_float(values.begin(), values.end());
  for (const std::vector<int64_t>& ints : {std::vector<int64_t>{0, 0, 0, 4, 5}, std::vector<int64_t>{0, 2, 3, 4, 5},
                                           std::vector<int64_t>{0, 1, 2, 1, 2}}) {
    INFO("ints ", ints[1], " ", ints[2], " size ", ints[3], "x", ints[4]);
    const std::vector<float> scales{static_cast<float>(ints[3]) / 2.f, static_cast<float>(ints[4]) / 3.f};
    Dims shape;
    const std::vector<float> expected = resize({1, 1, 2, 3}, as_float, ints, scales, &shape);
    for (DType dtype : {DType::kInt8, DType::kUInt8}) {
      std::vector<int32_t> input = values;
      if (dtype == DType::kUInt8)
        for (int32_t& v : input) v += 128;
      KernelRunner runner(OpCode::kResize);
      runner.input_quantized(dtype, {1, 1, 2, 3}, input, {0.5f}, {dtype == DType::kUInt8 ? 128 : 0})
          .ints(ints)
          .floats(scales)
          .output_quantization({0.5f}, {dtype == DType::kUInt8 ? 128 : 0});
      Status status = runner.run();
      REQUIRE_MESSAGE(status.is_ok(), status.message());
      CHECK(runner.output().dtype == dtype);
      CHECK(runner.output_shape() == shape);
      std::vector<float> actual;
      if (dtype == DType::kInt8)
        for (int8_t v : runner.output_as<int8_t>()) actual.push_back(v);
      else
        for (uint8_t v : runner.output_as<uint8_t>()) actual.push_back(static_cast<float>(v) - 128.f);
      CHECK(actual == expected);
    }
  }
  KernelRunner rescaled(OpCode::kResize);
  rescaled.input_quantized(DType::kInt8, {1, 1, 2, 3}, values, {0.5f}, {0})
      .ints({0, 0, 0, 4, 6})
      .floats({2, 2})
      .output_quantization({0.25f}, {0});
  Status refused = rescaled.infer();
  REQUIRE_FALSE(refused.is_ok());
  CHECK(std::string(refused.message()).find("same scale and zero point") != std::string::npos);
  KernelRunner linear(OpCode::kResize);
  linear.input_quantized(DType::kInt8, {1, 1, 2, 3}, values, {0.5f}, {0}).ints({1, 0, 0, 4, 6}).floats({2, 2});
  Status status = linear.infer();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("only nearest resizes quantized tensors") != std::string::npos);
}

TEST_CASE("Resize: infer rejects malformed nodes") {
  auto infer = [](Dims shape, std::vector<int64_t> ints, std::vector<float> floats) {
    KernelRunner runner(OpCode::kResize);
    size_t count = 1;
    for (int64_t d : shape) count *= static_cast<size_t>(d);
    runner.input(shape, std::vector<float>(count, 1.f)).ints(ints).floats(floats);
    return runner.infer();
  };
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(infer({1, 1, 2, 2}, {1, 0, 0, 4, 4}, {2, 2}).is_ok());
  CHECK_FALSE(infer({1, 1, 2, 2}, {1, 0, 0, 4}, {2, 2}).is_ok());        // four ints
  CHECK_FALSE(infer({1, 1, 2, 2}, {1, 0, 0, 4, 4}, {2}).is_ok());        // one float
  CHECK_FALSE(infer({1, 1, 2, 2}, {2, 0, 0, 4, 4}, {2, 2}).is_ok());     // cubic
  CHECK_FALSE(infer({1, 1, 2, 2}, {1, 4, 0, 4, 4}, {2, 2}).is_ok());     // tf_crop_and_resize
  CHECK_FALSE(infer({1, 1, 2, 2}, {0, 0, 4, 4, 4}, {2, 2}).is_ok());     // unknown rounding
  CHECK_FALSE(infer({1, 1, 2, 2}, {1, 0, 0, -4, 4}, {2, 2}).is_ok());    // negative size
  CHECK_FALSE(infer({1, 1, 2, 2}, {1, 0, 0, 4, 4}, {0, 2}).is_ok());     // zero scale
  CHECK_FALSE(infer({1, 1, 2, 2}, {1, 0, 0, 4, 4}, {2, -2}).is_ok());    // negative scale
  CHECK_FALSE(infer({1, 1, 2, 2}, {1, 0, 0, 4, 4}, {2, inf}).is_ok());   // infinite scale
  CHECK_FALSE(infer({1, 1, 2, 2}, {1, 0, 0, 4, 4}, {2, std::nanf("")}).is_ok());
  CHECK_FALSE(infer({1, 1, 4}, {1, 0, 0, 2, 8}, {2, 2}).is_ok());        // 3-D input with out_h 2
  CHECK_FALSE(infer({1, 1, 0, 2}, {1, 0, 0, 2, 4}, {2, 2}).is_ok());     // nothing to sample from
  CHECK_FALSE(infer({1, 1, 2, 2, 2}, {1, 0, 0, 4, 4}, {2, 2}).is_ok());  // rank 5
  CHECK_FALSE(infer({4}, {1, 0, 0, 1, 8}, {1, 2}).is_ok());              // rank 1
  SUBCASE("message names the op and the problem") {
    Status status = infer({1, 1, 2, 2}, {1, 7, 0, 4, 4}, {2, 2});
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("Resize 'test': coordinate transform = 7") != std::string::npos);
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kResize);
    runner.input({1, 1, 2, 2}, one_to(4)).ints({1, 0, 0, 4, 4}).floats({2, 2}).activation(ActivationKind::kRelu);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("scales given as an input tensor") {
    KernelRunner runner(OpCode::kResize);
    runner.input({1, 1, 2, 2}, one_to(4)).input({4}, {1, 1, 2, 2}, true).ints({1, 0, 0, 4, 4}).floats({2, 2});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("int64 input") {
    const int64_t values[4] = {1, 2, 3, 4};
    KernelRunner runner(OpCode::kResize);
    runner.input_typed(DType::kInt64, {1, 1, 2, 2}, values, sizeof values).ints({1, 0, 0, 4, 4}).floats({2, 2});
    CHECK_FALSE(runner.infer().is_ok());
  }
}

}  // namespace
}  // namespace edgegen
