// Less LessOrEqual Greater GreaterOrEqual Equal: bool outputs, broadcasting,
// NaN compares false (numpy semantics).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("comparisons: np.less / greater_equal with broadcasting, NaN is false") {
  const float nan = NAN;
  KernelRunner less(OpCode::kLess);
  // a [2, 3] against b [3]
  less.input({2, 3}, {1, 2, 3, 4, nan, 6}).input({3}, {2, 2, 7});
  REQUIRE(less.run().is_ok());
  CHECK(less.output().dtype == DType::kBool);
  CHECK(less.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(less.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 1, 0, 0, 1});

  KernelRunner greater_equal(OpCode::kGreaterOrEqual);
  // x [3, 1] >= knots [1, 4]: the searchsorted pattern of spline flows.
  greater_equal.input({3, 1}, {0.5f, -1.f, 3.f}).input({1, 4}, {0, 1, 2, 3});
  REQUIRE(greater_equal.run().is_ok());
  CHECK(greater_equal.output_shape() == std::vector<int64_t>{3, 4});
  CHECK(greater_equal.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1});
}

TEST_CASE("comparisons: every operator on int64, and a one-element case") {
  const std::vector<int64_t> a = {1, 2, 3}, b = {2, 2, 2};
  struct Case { OpCode op; std::vector<uint8_t> expected; };
  for (const Case& c : {Case{OpCode::kLess, {1, 0, 0}}, Case{OpCode::kLessOrEqual, {1, 1, 0}},
                        Case{OpCode::kGreater, {0, 0, 1}}, Case{OpCode::kGreaterOrEqual, {0, 1, 1}},
                        Case{OpCode::kEqual, {0, 1, 0}}}) {
    KernelRunner runner(c.op);
    runner.input_i64({3}, a, false).input_i64({3}, b, false);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<uint8_t>() == c.expected);
  }
  KernelRunner one(OpCode::kEqual);
  one.input({1}, {2.f}).input({1}, {2.f});
  REQUIRE(one.run().is_ok());
  CHECK(one.output_as<uint8_t>() == std::vector<uint8_t>{1});
}

TEST_CASE("comparisons: mismatched dtypes and shapes are refused at infer") {
  KernelRunner dtypes(OpCode::kLess);
  dtypes.input({2}, {1, 2}).input_i64({2}, {1, 2}, false);
  CHECK_FALSE(dtypes.run().is_ok());
  KernelRunner shapes(OpCode::kGreater);
  shapes.input({2}, {1, 2}).input({3}, {1, 2, 3});
  CHECK_FALSE(shapes.run().is_ok());
}

TEST_CASE("Where: np.where with three-way broadcasting") {
  const uint8_t condition[4] = {1, 0, 0, 1};
  KernelRunner runner(OpCode::kWhere);
  runner.input_typed(DType::kBool, {2, 2}, condition, 4).input({2, 2}, {1, 2, 3, 4}).input({1}, {-1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_values() == std::vector<float>{1, -1, -1, 4});

  const uint8_t column[2] = {0, 1};
  KernelRunner broadcast(OpCode::kWhere);
  broadcast.input_typed(DType::kBool, {2, 1}, column, 2).input({1, 3}, {1, 2, 3}).input({2, 3}, {9, 9, 9, 8, 8, 8});
  REQUIRE(broadcast.run().is_ok());
  CHECK(broadcast.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(broadcast.output_values() == std::vector<float>{9, 9, 9, 1, 2, 3});

  KernelRunner not_bool(OpCode::kWhere);
  not_bool.input({1}, {1}).input({1}, {1}).input({1}, {2});
  CHECK_FALSE(not_bool.run().is_ok());
}

TEST_CASE("CumSum: ONNX test_cumsum_2d_axis_1, exclusive, reverse, both") {
  auto run = [](int64_t axis, int64_t exclusive, int64_t reverse) {
    KernelRunner runner(OpCode::kCumSum);
    runner.input({2, 3}, {1, 2, 3, 4, 5, 6}).ints({axis, exclusive, reverse});
    REQUIRE(runner.run().is_ok());
    return runner.output_values();
  };
  CHECK(run(1, 0, 0) == std::vector<float>{1, 3, 6, 4, 9, 15});
  CHECK(run(0, 0, 0) == std::vector<float>{1, 2, 3, 5, 7, 9});
  CHECK(run(1, 1, 0) == std::vector<float>{0, 1, 3, 0, 4, 9});
  CHECK(run(1, 0, 1) == std::vector<float>{6, 5, 3, 15, 11, 6});
  CHECK(run(1, 1, 1) == std::vector<float>{5, 3, 0, 11, 6, 0});
  KernelRunner bad_axis(OpCode::kCumSum);
  bad_axis.input({2}, {1, 2}).ints({1, 0, 0});
  CHECK_FALSE(bad_axis.run().is_ok());
}

TEST_CASE("GatherElements: ONNX test_gather_elements_0/1 and negative indices; out of range fails the run") {
  KernelRunner axis1(OpCode::kGatherElements);
  axis1.input({2, 2}, {1, 2, 3, 4}).input_i64({2, 2}, {0, 0, 1, 0}, false).ints({1});
  REQUIRE(axis1.run().is_ok());
  CHECK(axis1.output_values() == std::vector<float>{1, 1, 4, 3});

  KernelRunner axis0(OpCode::kGatherElements);
  axis0.input({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}).input_i32({2, 3}, {1, 2, 0, 2, 0, -3}, false).ints({0});
  REQUIRE(axis0.run().is_ok());
  CHECK(axis0.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(axis0.output_values() == std::vector<float>{4, 8, 3, 7, 2, 3});

  KernelRunner out_of_range(OpCode::kGatherElements);
  out_of_range.input({2, 2}, {1, 2, 3, 4}).input_i64({2, 1}, {0, 2}, false).ints({1});
  Status status = out_of_range.run();
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(status.message()).find("index 2 at element 1 is out of range") != std::string::npos);
}

}  // namespace
}  // namespace edgegen
