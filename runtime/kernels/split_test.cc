// Split: ints {axis, size_0, ...}; output i takes the next size_i slices.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("Split: ONNX test_split_variable_parts_2d (axis 1, sizes 2 and 4)") {
  KernelRunner runner(OpCode::kSplit);
  runner.input({2, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}).ints({1, 2, 4}).num_outputs(2);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape(0) == std::vector<int64_t>{2, 2});
  CHECK(runner.output_values(0) == std::vector<float>{1, 2, 7, 8});
  CHECK(runner.output_shape(1) == std::vector<int64_t>{2, 4});
  CHECK(runner.output_values(1) == std::vector<float>{3, 4, 5, 6, 9, 10, 11, 12});
}

TEST_CASE("Split: axis 0 into three odd parts") {
  KernelRunner runner(OpCode::kSplit);
  runner.input({5, 1}, {1, 2, 3, 4, 5}).ints({0, 1, 3, 1}).num_outputs(3);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_values(0) == std::vector<float>{1});
  CHECK(runner.output_values(1) == std::vector<float>{2, 3, 4});
  CHECK(runner.output_values(2) == std::vector<float>{5});
}

TEST_CASE("Split: int64 and uint8") {
  SUBCASE("int64 (constant folding of shapes)") {
    KernelRunner runner(OpCode::kSplit);
    runner.input_i64({4}, {1, 3, 64, 64}).ints({0, 2, 2}).num_outputs(2);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output(0).dtype == DType::kInt64);
    CHECK(runner.output_as<int64_t>(0) == std::vector<int64_t>{1, 3});
    CHECK(runner.output_as<int64_t>(1) == std::vector<int64_t>{64, 64});
  }
  SUBCASE("uint8 along the last axis") {
    const uint8_t x[6] = {1, 2, 3, 4, 5, 6};
    KernelRunner runner(OpCode::kSplit);
    runner.input_typed(DType::kUInt8, {2, 3}, x, 6).ints({1, 1, 2}).num_outputs(2);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<uint8_t>(0) == std::vector<uint8_t>{1, 4});
    CHECK(runner.output_as<uint8_t>(1) == std::vector<uint8_t>{2, 3, 5, 6});
  }
}

TEST_CASE("Split: zero-size parts and empty inputs") {
  SUBCASE("ONNX test_split_zero_size_splits: [0] into three empty parts") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({0}, {}).ints({0, 0, 0, 0}).num_outputs(3);
    REQUIRE(runner.run().is_ok());
    for (size_t i = 0; i < 3; ++i) CHECK(runner.output_shape(i) == std::vector<int64_t>{0});
  }
  SUBCASE("an empty part between two others") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({1, 3}, {1, 2, 3}).ints({1, 1, 0, 2}).num_outputs(3);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values(0) == std::vector<float>{1});
    CHECK(runner.output_shape(1) == std::vector<int64_t>{1, 0});
    CHECK(runner.output_values(2) == std::vector<float>{2, 3});
  }
  SUBCASE("one output copies the input") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({1}, {9}).ints({0, 1}).num_outputs(1);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values(0) == std::vector<float>{9});
  }
}

TEST_CASE("Split: infer rejects malformed nodes") {
  SUBCASE("sizes sum to less than the axis") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({4}, {1, 2, 3, 4}).ints({0, 1, 2}).num_outputs(2);
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("sum to 3") != std::string::npos);
  }
  SUBCASE("sizes sum to more than the axis") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({4}, {1, 2, 3, 4}).ints({0, 3, 2}).num_outputs(2);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("a negative size") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({4}, {1, 2, 3, 4}).ints({0, -1, 5}).num_outputs(2);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("output count differs from the size count") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({4}, {1, 2, 3, 4}).ints({0, 2, 2}).num_outputs(3);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("no sizes") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({4}, {1, 2, 3, 4}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("axis out of range") {
    KernelRunner runner(OpCode::kSplit);
    runner.input({4}, {1, 2, 3, 4}).ints({1, 4}).num_outputs(1);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
