// TopK: values and int64 indices, largest and smallest, ties in index
// order, NaN ranked above every number, along an inner axis.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("TopK: the k largest or smallest along the last axis, ties by index") {
  KernelRunner largest(OpCode::kTopK);
  largest.input({2, 4}, {1.f, 3.f, 3.f, 2.f, 0.f, -1.f, 4.f, 4.f}).ints({1, 3, 1, 1}).num_outputs(2);
  REQUIRE(largest.run().is_ok());
  CHECK(largest.output_shape(0) == std::vector<int64_t>{2, 3});
  CHECK(largest.output_values(0) == std::vector<float>{3.f, 3.f, 2.f, 4.f, 4.f, 0.f});
  CHECK(largest.output(1).dtype == DType::kInt64);
  CHECK(largest.output_as<int64_t>(1) == std::vector<int64_t>{1, 2, 3, 2, 3, 0});
  KernelRunner smallest(OpCode::kTopK);
  smallest.input_i32({4}, {5, 1, 1, 0}, false).ints({0, 2, 0, 1}).num_outputs(2);
  REQUIRE(smallest.run().is_ok());
  CHECK(smallest.output_as<int32_t>(0) == std::vector<int32_t>{0, 1});
  CHECK(smallest.output_as<int64_t>(1) == std::vector<int64_t>{3, 1});
}

TEST_CASE("TopK along an inner axis, with a NaN, and k = 0") {
  // [3, 2]: columns {1, nan, 2} and {4, 0, 5}
  KernelRunner inner(OpCode::kTopK);
  inner.input({3, 2}, {1.f, 4.f, std::nanf(""), 0.f, 2.f, 5.f}).ints({0, 2, 1, 1}).num_outputs(2);
  REQUIRE(inner.run().is_ok());
  CHECK(inner.output_as<int64_t>(1) == std::vector<int64_t>{1, 2, 2, 0});
  CHECK(std::isnan(inner.output_values(0)[0]));
  KernelRunner none(OpCode::kTopK);
  none.input({3}, {1.f, 2.f, 3.f}).ints({0, 0, 1, 1}).num_outputs(2);
  REQUIRE(none.run().is_ok());
  CHECK(none.output_shape(1) == std::vector<int64_t>{0});
}

TEST_CASE("TopK refuses k beyond the axis at infer") {
  KernelRunner runner(OpCode::kTopK);
  runner.input({3}, {1.f, 2.f, 3.f}).ints({0, 4, 1, 1}).num_outputs(2);
  CHECK(!runner.infer().is_ok());
}

}  // namespace
}  // namespace edgegen
