// Slice: {start, end, step} per dim, already clamped numpy-style by the
// converter (see the accepted ranges at the top of slice.cc).
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

std::vector<float> iota_floats(size_t count) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = static_cast<float>(i);
  return values;
}

TEST_CASE("Slice: positive steps") {
  SUBCASE("x[1:3, 0:4:2]") {
    // np.arange(12).reshape(3, 4)[1:3, 0:4:2]
    KernelRunner runner(OpCode::kSlice);
    runner.input({3, 4}, iota_floats(12)).ints({1, 3, 1, 0, 4, 2});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 2});
    CHECK(runner.output_values() == std::vector<float>{4, 6, 8, 10});
  }
  SUBCASE("a step that does not divide the span: x[1:7:3]") {
    // np.arange(8)[1:7:3]
    KernelRunner runner(OpCode::kSlice);
    runner.input({8}, iota_floats(8)).ints({1, 7, 3});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{1, 4});
  }
  SUBCASE("ONNX test_slice_end_out_of_bounds, clamped: x[:, 1:10, :]") {
    KernelRunner runner(OpCode::kSlice);
    runner.input({2, 10, 1}, iota_floats(20)).ints({0, 2, 1, 1, 10, 1, 0, 1, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 9, 1});
    CHECK(runner.output_values() ==
          std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19});
  }
}

TEST_CASE("Slice: negative steps") {
  SUBCASE("reverse everything: x[4::-1] is start 4, end -1") {
    KernelRunner runner(OpCode::kSlice);
    runner.input({5}, iota_floats(5)).ints({4, -1, -1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{4, 3, 2, 1, 0});
  }
  SUBCASE("x[::-2] of an odd length") {
    // np.arange(7)[::-2]
    KernelRunner runner(OpCode::kSlice);
    runner.input({7}, iota_floats(7)).ints({6, -1, -2});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{6, 4, 2, 0});
  }
  SUBCASE("both dims backwards: x[2::-2, 3:0:-2]") {
    // np.arange(12).reshape(3, 4)[2::-2, 3:0:-2]
    KernelRunner runner(OpCode::kSlice);
    runner.input({3, 4}, iota_floats(12)).ints({2, -1, -2, 3, 0, -2});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 2});
    CHECK(runner.output_values() == std::vector<float>{11, 9, 3, 1});
  }
  SUBCASE("ONNX test_slice_neg_steps, clamped") {
    // starts (20, 10, 4), ends (0, 0, 1), steps (-1, -3, -2) on [20, 10, 5]
    // clamp to starts (19, 9, 4): out[i, j, k] = x[19 - i, 9 - 3 j, 4 - 2 k].
    KernelRunner runner(OpCode::kSlice);
    runner.input({20, 10, 5}, iota_floats(1000)).ints({19, 0, -1, 9, 0, -3, 4, 1, -2});
    REQUIRE(runner.run().is_ok());
    REQUIRE(runner.output_shape() == std::vector<int64_t>{19, 3, 2});
    const std::vector<float> out = runner.output_values();
    size_t n = 0;
    for (int i = 0; i < 19; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 2; ++k) CHECK(out[n++] == static_cast<float>((19 - i) * 50 + (9 - 3 * j) * 5 + 4 - 2 * k));
  }
}

TEST_CASE("Slice: steps larger than the dim") {
  SUBCASE("INT64_MAX") {
    KernelRunner runner(OpCode::kSlice);
    runner.input({5}, iota_floats(5)).ints({1, 5, std::numeric_limits<int64_t>::max()});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{1});
  }
  SUBCASE("INT64_MIN") {
    KernelRunner runner(OpCode::kSlice);
    runner.input({2, 5}, iota_floats(10)).ints({0, 2, 1, 3, -1, std::numeric_limits<int64_t>::min()});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 1});
    CHECK(runner.output_values() == std::vector<float>{3, 8});
  }
}

TEST_CASE("Slice: int64 and bool") {
  SUBCASE("int64 shape vector: shape[2:]") {
    KernelRunner runner(OpCode::kSlice);
    runner.input_i64({4}, {1, 3, 64, 48}).ints({2, 4, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output(0).dtype == DType::kInt64);
    CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{64, 48});
  }
  SUBCASE("bool reversed") {
    const uint8_t x[3] = {1, 0, 0};
    KernelRunner runner(OpCode::kSlice);
    runner.input_typed(DType::kBool, {3}, x, 3).ints({2, -1, -1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{0, 0, 1});
  }
}

TEST_CASE("Slice: scalars and empty results") {
  SUBCASE("rank 0 copies the scalar") {
    KernelRunner runner(OpCode::kSlice);
    runner.input({}, {2.5f}).ints({});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{2.5f});
  }
  SUBCASE("start == end") {
    KernelRunner runner(OpCode::kSlice);
    runner.input({2, 3}, iota_floats(6)).ints({0, 2, 1, 2, 2, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 0});
  }
  SUBCASE("end before start with a positive step") {
    KernelRunner runner(OpCode::kSlice);
    runner.input({4}, iota_floats(4)).ints({3, 1, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0});
  }
  SUBCASE("end after start with a negative step") {
    KernelRunner runner(OpCode::kSlice);
    runner.input({4}, iota_floats(4)).ints({1, 3, -1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0});
  }
  SUBCASE("a zero-length dim, forwards and backwards") {
    KernelRunner forwards(OpCode::kSlice);
    forwards.input({0, 2}, {}).ints({0, 0, 1, 0, 2, 1});
    REQUIRE(forwards.run().is_ok());
    CHECK(forwards.output_shape() == std::vector<int64_t>{0, 2});
    KernelRunner backwards(OpCode::kSlice);
    backwards.input({0, 2}, {}).ints({-1, -1, -1, 1, -1, -1});
    REQUIRE(backwards.run().is_ok());
    CHECK(backwards.output_shape() == std::vector<int64_t>{0, 2});
  }
}

TEST_CASE("Slice: infer rejects unclamped or malformed ranges") {
  auto infer = [](std::vector<int64_t> ints) {
    KernelRunner runner(OpCode::kSlice);
    runner.input({4}, iota_floats(4)).ints(std::move(ints));
    return runner.infer();
  };
  CHECK(infer({0, 4, 0}).code() == StatusCode::kInvalidModel);    // step 0
  CHECK(infer({0, 5, 1}).code() == StatusCode::kInvalidModel);    // end past the dim
  CHECK(infer({-1, 4, 1}).code() == StatusCode::kInvalidModel);   // negative start, positive step
  CHECK(infer({5, 4, 1}).code() == StatusCode::kInvalidModel);    // start past the dim
  CHECK(infer({4, -1, -1}).code() == StatusCode::kInvalidModel);  // start == n, negative step
  CHECK(infer({3, -2, -1}).code() == StatusCode::kInvalidModel);  // end < -1, negative step
  CHECK(infer({0, 4}).code() == StatusCode::kInvalidModel);       // 2 ints for rank 1
  CHECK(infer({0, 4, 1, 0, 1, 1}).code() == StatusCode::kInvalidModel);
  const Status status = infer({0, 4, 0});
  CHECK(std::string(status.message()).find("step 0") != std::string::npos);
}

}  // namespace
}  // namespace edgegen
