// Concat: inputs joined along `axis`; all other dims must match.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("Concat: 2-D along each axis (ONNX test_concat_2d_axis_0 / _1)") {
  // np.concatenate(([[1, 2], [3, 4]], [[5, 6], [7, 8]]), axis)
  SUBCASE("axis 0") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2, 2}, {1, 2, 3, 4}).input({2, 2}, {5, 6, 7, 8}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{4, 2});
    CHECK(runner.output_values() == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
  }
  SUBCASE("axis 1") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2, 2}, {1, 2, 3, 4}).input({2, 2}, {5, 6, 7, 8}).ints({1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 4});
    CHECK(runner.output_values() == std::vector<float>{1, 2, 5, 6, 3, 4, 7, 8});
  }
}

TEST_CASE("Concat: three inputs of different lengths along a middle axis") {
  // np.concatenate((a [2,1,2], b [2,2,2], c [2,3,2]), axis=1)
  KernelRunner runner(OpCode::kConcat);
  runner.input({2, 1, 2}, {1, 2, 3, 4})
      .input({2, 2, 2}, {10, 11, 12, 13, 14, 15, 16, 17})
      .input({2, 3, 2}, {20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31})
      .ints({1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{2, 6, 2});
  CHECK(runner.output_values() == std::vector<float>{1, 2, 10, 11, 12, 13, 20, 21, 22, 23, 24, 25,
                                                     3, 4, 14, 15, 16, 17, 26, 27, 28, 29, 30, 31});
}

TEST_CASE("Concat: int64 shape vectors, int32, bool") {
  SUBCASE("int64 (constant folding of shapes)") {
    KernelRunner runner(OpCode::kConcat);
    runner.input_i64({1}, {1}).input_i64({2}, {-1, 64}).input_i64({1}, {int64_t{1} << 33}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output(0).dtype == DType::kInt64);
    CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{1, -1, 64, int64_t{1} << 33});
  }
  SUBCASE("int32") {
    KernelRunner runner(OpCode::kConcat);
    runner.input_i32({1, 2}, {1, 2}, false).input_i32({1, 1}, {3}, false).ints({1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<int32_t>() == std::vector<int32_t>{1, 2, 3});
  }
  SUBCASE("bool") {
    const uint8_t a[2] = {1, 0}, b[1] = {1};
    KernelRunner runner(OpCode::kConcat);
    runner.input_typed(DType::kBool, {2}, a, 2).input_typed(DType::kBool, {1}, b, 1).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output(0).dtype == DType::kBool);
    CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 1});
  }
}

TEST_CASE("Concat: one input, one element, empty inputs") {
  SUBCASE("a single input is copied") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({3}, {1, 2, 3}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{1, 2, 3});
  }
  SUBCASE("one element each") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({1, 1}, {7}).input({1, 1}, {8}).ints({1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{1, 2});
    CHECK(runner.output_values() == std::vector<float>{7, 8});
  }
  SUBCASE("an input of length zero along the axis contributes nothing") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2, 0}, {}).input({2, 3}, {1, 2, 3, 4, 5, 6}).input({2, 0}, {}).ints({1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 3});
    CHECK(runner.output_values() == std::vector<float>{1, 2, 3, 4, 5, 6});
  }
  SUBCASE("all inputs empty") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({0, 2}, {}).input({0, 3}, {}).ints({1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0, 5});
  }
}

TEST_CASE("Concat: infer rejects malformed nodes") {
  SUBCASE("dims differ outside the axis") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2, 2}, {1, 2, 3, 4}).input({3, 1}, {5, 6, 7}).ints({1});
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("input 1") != std::string::npos);
  }
  SUBCASE("ranks differ") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2}, {1, 2}).input({1, 2}, {3, 4}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("dtypes differ") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2}, {1, 2}).input_i64({1}, {3}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("axis out of range") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2}, {1, 2}).input({2}, {3, 4}).ints({1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("scalar inputs") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({}, {1}).input({}, {2}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("no inputs") {
    KernelRunner runner(OpCode::kConcat);
    runner.ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("an absent input") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2}, {1, 2}).absent_input().ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("missing axis") {
    KernelRunner runner(OpCode::kConcat);
    runner.input({2}, {1, 2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

TEST_CASE("Concat: int8 inputs of other scales are requantized to the output's, within one step; its own are copied") {
  // [1, 2, 3] at the output's scale, [1, 3, 3] at another, along the channels.
  std::vector<int32_t> a, b;
  for (int32_t i = 0; i < 6; ++i) a.push_back(i * 41 - 120);
  for (int32_t i = 0; i < 9; ++i) b.push_back(i * 29 - 128);
  KernelRunner runner(OpCode::kConcat);
  runner.input_quantized(DType::kInt8, {1, 2, 3}, a, {0.05f}, {-3})
      .input_quantized(DType::kInt8, {1, 3, 3}, b, {0.08f}, {10})
      .ints({1})
      .output_quantization({0.05f}, {-3});
  Status status = runner.run();
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  CHECK(runner.output_shape() == std::vector<int64_t>{1, 5, 3});
  const std::vector<int8_t> y = runner.output_as<int8_t>();
  for (size_t i = 0; i < 6; ++i) CHECK(y[i] == a[i]);  // copied
  for (size_t i = 0; i < 9; ++i) {
    CAPTURE(i);
    const double real = 0.08 * (b[i] - 10);
    const double want = std::fmin(127, std::fmax(-128, std::nearbyint(real / 0.05) - 3));
    CHECK(std::abs(y[6 + i] - want) <= 1);
  }
  CHECK(y[6] == -128);   // 0.08 * -138 / 0.05 saturates
  CHECK(y[14] == 127);   // 0.08 * 104 / 0.05 saturates

  KernelRunner per_axis(OpCode::kConcat);
  per_axis.input_quantized(DType::kInt8, {1, 2, 3}, a, {0.05f, 0.1f}, {0, 0}, 1)
      .input_quantized(DType::kInt8, {1, 3, 3}, b, {0.08f}, {10})
      .ints({1})
      .output_quantization({0.05f}, {-3});
  status = per_axis.infer();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("per-tensor") != std::string::npos);
}

}  // namespace
}  // namespace edgegen
