// MaxPool2d and AveragePool2d reference kernels. ints: {kernel_h, kernel_w,
// stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, pad_bottom,
// pad_right, ceil_mode, count_include_pad}.
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

// 1, 2, ..., count: the input of the ONNX pooling test cases.
std::vector<float> one_to(size_t count) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = static_cast<float>(i + 1);
  return values;
}

std::vector<float> pool(OpCode op, Dims shape, std::vector<float> x, std::vector<int64_t> ints, Dims* out_shape) {
  KernelRunner runner(op);
  runner.input(shape, x).ints(ints);
  Status status = runner.run();
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  *out_shape = runner.output_shape();
  return runner.output_values();
}

// ONNX backend test data (onnx/backend/test/data/node/test_{max,average}pool_2d_*).
TEST_CASE("MaxPool2d: ONNX test_maxpool_2d_ceil") {
  Dims shape;
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 4, 4}, one_to(16), {3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0}, &shape),
               {11, 12, 15, 16});
  CHECK(shape == Dims{1, 1, 2, 2});
}

TEST_CASE("AveragePool2d: ONNX test_averagepool_2d_ceil") {
  Dims shape;
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 4, 4}, one_to(16), {3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0}, &shape),
               {6, 7.5f, 12, 13.5f});
  CHECK(shape == Dims{1, 1, 2, 2});
}

TEST_CASE("MaxPool2d: ONNX test_maxpool_2d_dilations") {
  Dims shape;
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 4, 4}, one_to(16), {2, 2, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0}, &shape),
               {11, 12, 15, 16});
  CHECK(shape == Dims{1, 1, 2, 2});
}

TEST_CASE("MaxPool2d: ONNX test_maxpool_2d_precomputed_pads") {
  Dims shape;
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 5, 5}, one_to(25), {5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0}, &shape),
               {13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25});
  CHECK(shape == Dims{1, 1, 5, 5});
}

TEST_CASE("AveragePool2d: ONNX test_averagepool_2d_precomputed_pads (padding excluded)") {
  Dims shape;
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 5, 5}, one_to(25), {5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0}, &shape),
               {7,  7.5f,  8,  8.5f,  9,  9.5f,  10, 10.5f, 11, 11.5f, 12, 12.5f, 13,
                13.5f, 14, 14.5f, 15, 15.5f, 16, 16.5f, 17, 17.5f, 18, 18.5f, 19});
  CHECK(shape == Dims{1, 1, 5, 5});
}

TEST_CASE("AveragePool2d: ONNX test_averagepool_2d_precomputed_pads_count_include_pad") {
  Dims shape;
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 5, 5}, one_to(25), {5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 0, 1}, &shape),
               {2.52f,  3.6f,  4.8f,  4.08f,  3.24f, 4.56f, 6.4f, 8.4f, 7.04f,  5.52f, 7.2f,  10.f, 13.f,
                10.8f, 8.4f, 6.96f, 9.6f, 12.4f, 10.24f, 7.92f, 6.12f, 8.4f, 10.8f, 8.88f, 6.84f},
               1e-5);
}

TEST_CASE("Pool2d: ONNX test_*pool_2d_precomputed_strides") {
  Dims shape;
  const std::vector<int64_t> ints = {2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0};
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 5, 5}, one_to(25), ints, &shape), {7, 9, 17, 19});
  CHECK(shape == Dims{1, 1, 2, 2});
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 5, 5}, one_to(25), ints, &shape), {4, 6, 14, 16});
}

TEST_CASE("Pool2d: ONNX test_*pool_2d_precomputed_same_upper (as explicit pads)") {
  Dims shape;
  const std::vector<int64_t> ints = {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0};
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 5, 5}, one_to(25), ints, &shape), {7, 9, 10, 17, 19, 20, 22, 24, 25});
  CHECK(shape == Dims{1, 1, 3, 3});
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 5, 5}, one_to(25), ints, &shape),
               {4, 5.5f, 7, 11.5f, 13, 14.5f, 19, 20.5f, 22});
}

TEST_CASE("AveragePool2d: ceil mode overhang is not counted, even with count_include_pad") {
  // torch.nn.functional.avg_pool1d(torch.arange(1., 7).view(1, 1, 6), 3, 2, padding=1, ceil_mode=True,
  //                                count_include_pad=...): windows start at -1, 1, 3, 5; the last one covers
  // x[5], one pad position and one position past the padding.
  Dims shape;
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 6}, one_to(6), {1, 3, 1, 2, 1, 1, 0, 1, 0, 1, 1, 1}, &shape),
               {1, 3, 5, 3});
  CHECK(shape == Dims{1, 1, 4});
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 6}, one_to(6), {1, 3, 1, 2, 1, 1, 0, 1, 0, 1, 1, 0}, &shape),
               {1.5f, 3, 5, 6});
}

TEST_CASE("MaxPool2d: ceil mode drops a window that would start in the end padding") {
  // L = 5, k = 2, s = 2, pads 1 / 1: ceil((7 - 2) / 2) + 1 = 4, but window 3 would start at 5 (padding).
  Dims shape;
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 5}, one_to(5), {1, 2, 1, 2, 1, 1, 0, 1, 0, 1, 1, 0}, &shape),
               {1, 3, 5});
  CHECK(shape == Dims{1, 1, 3});
}

TEST_CASE("MaxPool2d: padding never wins over negative inputs") {
  // np.max over in-bounds elements of each 2x2 window (pads 1).
  Dims shape;
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 2, 2}, {-1, -2, -3, -4}, {2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, &shape),
               {-1, -1, -2, -1, -1, -2, -3, -3, -4});
  CHECK(shape == Dims{1, 1, 3, 3});
}

TEST_CASE("MaxPool2d: NaN propagates") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Dims shape;
  std::vector<float> y = pool(OpCode::kMaxPool2d, {1, 1, 1, 4}, {1, nan, 3, 2}, {1, 2, 1, 2, 1, 1, 0, 0, 0, 0, 0, 0},
                              &shape);
  REQUIRE(y.size() == 2);
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == 3);
}

TEST_CASE("MaxPool2d: 1-D with dilation") {
  // x = [3, 1, 4, 1, 5, 9, 2], k = 3, dilation 2: windows {0, 2, 4}, {1, 3, 5}, {2, 4, 6}.
  Dims shape;
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 7}, {3, 1, 4, 1, 5, 9, 2}, {1, 3, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0}, &shape),
               {5, 9, 5});
  CHECK(shape == Dims{1, 1, 3});
}

TEST_CASE("Pool2d: batches and channels pool independently, odd sizes") {
  // x = arange(30).reshape(2, 3, 1, 5), k = (1, 3), s = (1, 2).
  std::vector<float> x(30);
  for (int i = 0; i < 30; ++i) x[i] = static_cast<float>(i);
  const std::vector<int64_t> ints = {1, 3, 1, 2, 1, 1, 0, 0, 0, 0, 0, 0};
  Dims shape;
  check_values(pool(OpCode::kMaxPool2d, {2, 3, 1, 5}, x, ints, &shape), {2, 4, 7, 9, 12, 14, 17, 19, 22, 24, 27, 29});
  CHECK(shape == Dims{2, 3, 1, 2});
  check_values(pool(OpCode::kAveragePool2d, {2, 3, 1, 5}, x, ints, &shape),
               {1, 3, 6, 8, 11, 13, 16, 18, 21, 23, 26, 28});
}

TEST_CASE("Pool2d: one element") {
  Dims shape;
  const std::vector<int64_t> ints = {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
  check_values(pool(OpCode::kMaxPool2d, {1, 1, 1, 1}, {-7}, ints, &shape), {-7});
  CHECK(shape == Dims{1, 1, 1, 1});
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 1, 1}, {-7}, ints, &shape), {-7});
}

TEST_CASE("Pool2d: a window of padding only") {
  // L = 1, k = 2, dilation 3, pads 2 / 1: the only window's taps are at -2 and 1, both outside.
  const std::vector<int64_t> exclude = {1, 2, 1, 1, 1, 3, 0, 2, 0, 1, 0, 0};
  const std::vector<int64_t> include = {1, 2, 1, 1, 1, 3, 0, 2, 0, 1, 0, 1};
  Dims shape;
  std::vector<float> y = pool(OpCode::kMaxPool2d, {1, 1, 1}, {5}, exclude, &shape);
  CHECK(shape == Dims{1, 1, 1});
  CHECK(y[0] == -std::numeric_limits<float>::infinity());
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 1}, {5}, exclude, &shape), {0});
  check_values(pool(OpCode::kAveragePool2d, {1, 1, 1}, {5}, include, &shape), {0});
}

TEST_CASE("Pool2d: empty tensors") {
  const std::vector<int64_t> ints = {2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
  for (OpCode op : {OpCode::kMaxPool2d, OpCode::kAveragePool2d}) {
    KernelRunner batch(op);
    batch.input({0, 2, 3, 3}, {}).ints(ints);
    REQUIRE(batch.run().is_ok());
    CHECK(batch.output_shape() == Dims{0, 2, 2, 2});
    KernelRunner channels(op);
    channels.input({1, 0, 3, 3}, {}).ints(ints);
    REQUIRE(channels.run().is_ok());
    CHECK(channels.output_shape() == Dims{1, 0, 2, 2});
  }
}

TEST_CASE("Pool2d: infer rejects malformed nodes") {
  const std::vector<float> x = one_to(16);
  auto infer = [&](OpCode op, std::vector<int64_t> ints) {
    KernelRunner runner(op);
    runner.input({1, 1, 4, 4}, x).ints(ints);
    return runner.infer();
  };
  for (OpCode op : {OpCode::kMaxPool2d, OpCode::kAveragePool2d}) {
    CAPTURE(static_cast<int>(op));
    CHECK(infer(op, {2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}).is_ok());
    CHECK_FALSE(infer(op, {2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0}).is_ok());        // 11 ints
    CHECK_FALSE(infer(op, {0, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}).is_ok());     // zero kernel
    CHECK_FALSE(infer(op, {2, 2, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0}).is_ok());     // zero stride
    CHECK_FALSE(infer(op, {2, 2, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0}).is_ok());     // zero dilation
    CHECK_FALSE(infer(op, {2, 2, 1, 1, 1, 1, 0, -1, 0, 0, 0, 0}).is_ok());    // negative pad
    CHECK_FALSE(infer(op, {2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 2, 0}).is_ok());     // ceil_mode 2
    CHECK_FALSE(infer(op, {2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, -1}).is_ok());    // count_include_pad -1
    CHECK_FALSE(infer(op, {5, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}).is_ok());     // window taller than input
    CHECK_FALSE(infer(op, {2, 2, 1, 1, 4, 1, 0, 0, 0, 0, 0, 0}).is_ok());     // dilated window too tall
  }
  SUBCASE("message names the op and the attribute") {
    Status status = infer(OpCode::kAveragePool2d, {2, 2, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0});
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("AveragePool2d 'test': stride_w = 0") != std::string::npos);
  }
  SUBCASE("1-D pooling with a vertical kernel") {
    KernelRunner runner(OpCode::kMaxPool2d);
    runner.input({1, 1, 4}, {1, 2, 3, 4}).ints({2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("rank-5 input") {
    KernelRunner runner(OpCode::kMaxPool2d);
    runner.input({1, 1, 1, 1, 1}, {1}).ints({1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kMaxPool2d);
    runner.input({1, 1, 4, 4}, x).ints({2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}).activation(ActivationKind::kRelu);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("int32 input") {
    const int32_t values[4] = {1, 2, 3, 4};
    KernelRunner runner(OpCode::kMaxPool2d);
    runner.input_typed(DType::kInt32, {1, 1, 2, 2}, values, sizeof values).ints({1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("two inputs") {
    KernelRunner runner(OpCode::kAveragePool2d);
    runner.input({1, 1, 4, 4}, x).input({1}, {1}).ints({2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0});
    CHECK_FALSE(runner.infer().is_ok());
  }
}

}  // namespace
}  // namespace edgegen
