// OneHot: the depth axis inserted anywhere, negative and out-of-range
// indices, float indices, integer values.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("OneHot: last axis, negative indices count from depth, out of range is all off") {
  KernelRunner runner(OpCode::kOneHot);
  runner.input_i64({4}, {0, -1, 2, 7}, false).input({2}, {0.f, 5.f}).ints({1, 3});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{4, 3});
  CHECK(runner.output_values() == std::vector<float>{5, 0, 0, 0, 0, 5, 0, 0, 5, 0, 0, 0});
}

TEST_CASE("OneHot: the depth axis first, float indices, int64 values") {
  KernelRunner runner(OpCode::kOneHot);
  runner.input({2}, {1.9f, 0.f}).input_i64({2}, {-1, 1}, false).ints({0, 2});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{2, 2});
  CHECK(runner.output().dtype == DType::kInt64);
  CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{-1, 1, 1, -1});
}

TEST_CASE("OneHot refuses values that are not a pair and a bad axis at infer") {
  KernelRunner pair(OpCode::kOneHot);
  pair.input_i64({1}, {0}, false).input({3}, {0.f, 1.f, 2.f}).ints({1, 3});
  CHECK(!pair.infer().is_ok());
  KernelRunner axis(OpCode::kOneHot);
  axis.input_i64({1}, {0}, false).input({2}, {0.f, 1.f}).ints({2, 3});
  CHECK(!axis.infer().is_ok());
}

}  // namespace
}  // namespace edgegen
