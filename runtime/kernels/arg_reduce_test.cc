// ArgMax, ArgMin: int64 indices along an axis, keepdims, ties to the first
// or (select_last_index) the last index.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("ArgMax, ArgMin over each axis, with and without keepdims") {
  const std::vector<float> x = {2.f, 1.f, 2.f, 0.f, 5.f, 0.f};  // [[2, 1, 2], [0, 5, 0]]
  KernelRunner rows(OpCode::kArgMax);
  rows.input({2, 3}, x).ints({1, 1, 0});
  REQUIRE(rows.run().is_ok());
  CHECK(rows.output().dtype == DType::kInt64);
  CHECK(rows.output_shape() == std::vector<int64_t>{2, 1});
  CHECK(rows.output_as<int64_t>() == std::vector<int64_t>{0, 1});
  KernelRunner columns(OpCode::kArgMin);
  columns.input({2, 3}, x).ints({0, 0, 0});
  REQUIRE(columns.run().is_ok());
  CHECK(columns.output_shape() == std::vector<int64_t>{3});
  CHECK(columns.output_as<int64_t>() == std::vector<int64_t>{1, 0, 1});
}

TEST_CASE("ArgMax, ArgMin: select_last_index takes the last of equal values") {
  KernelRunner max_last(OpCode::kArgMax);
  max_last.input({2, 3}, {2.f, 1.f, 2.f, 0.f, 5.f, 0.f}).ints({1, 0, 1});
  REQUIRE(max_last.run().is_ok());
  CHECK(max_last.output_as<int64_t>() == std::vector<int64_t>{2, 1});
  KernelRunner min_last(OpCode::kArgMin);
  min_last.input_i64({2, 3}, {2, 1, 2, 0, 5, 0}, false).ints({1, 0, 1});
  REQUIRE(min_last.run().is_ok());
  CHECK(min_last.output_as<int64_t>() == std::vector<int64_t>{1, 2});
}

TEST_CASE("ArgMax refuses an empty axis, an axis out of range and bool at infer") {
  KernelRunner empty(OpCode::kArgMax);
  empty.input({2, 0}, {}).ints({1, 1, 0});
  CHECK(!empty.infer().is_ok());
  KernelRunner axis(OpCode::kArgMax);
  axis.input({2}, {1.f, 2.f}).ints({1, 1, 0});
  CHECK(!axis.infer().is_ok());
}

}  // namespace
}  // namespace edgegen
