// And Or Xor Not on bool tensors: truth tables, NumPy broadcasting, any
// non-zero byte as true, empty and one-element tensors; non-bool inputs and
// shapes that do not broadcast are refused at infer.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

KernelRunner& bools(KernelRunner& runner, std::vector<int64_t> shape, const std::vector<uint8_t>& values) {
  return runner.input_typed(DType::kBool, shape, values.data(), values.size());
}

TEST_CASE("And Or Xor: the truth tables (np.logical_and / or / xor)") {
  const std::vector<uint8_t> a = {0, 0, 1, 1}, b = {0, 1, 0, 1};
  struct Case { OpCode op; std::vector<uint8_t> expected; };
  for (const Case& c : {Case{OpCode::kAnd, {0, 0, 0, 1}}, Case{OpCode::kOr, {0, 1, 1, 1}},
                        Case{OpCode::kXor, {0, 1, 1, 0}}}) {
    KernelRunner runner(c.op);
    bools(bools(runner, {4}, a), {4}, b);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output().dtype == DType::kBool);
    CHECK(runner.output_shape() == std::vector<int64_t>{4});
    CHECK(runner.output_as<uint8_t>() == c.expected);
  }
}

TEST_CASE("And: broadcasting, the spline flows' interval mask (x >= -B) & (x <= B)") {
  // [2, 3] & [3]
  KernelRunner row(OpCode::kAnd);
  bools(bools(row, {2, 3}, {1, 1, 0, 1, 0, 1}), {3}, {1, 0, 1});
  REQUIRE(row.run().is_ok());
  CHECK(row.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(row.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 0, 1, 0, 1});
  // [2, 1] | [1, 3] -> [2, 3]
  KernelRunner outer(OpCode::kOr);
  bools(bools(outer, {2, 1}, {0, 1}), {1, 3}, {1, 0, 0});
  REQUIRE(outer.run().is_ok());
  CHECK(outer.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(outer.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 0, 1, 1, 1});
  // a scalar against a tensor
  KernelRunner scalar(OpCode::kXor);
  bools(bools(scalar, {}, {1}), {2, 2}, {0, 1, 1, 0});
  REQUIRE(scalar.run().is_ok());
  CHECK(scalar.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 0, 1});
}

TEST_CASE("logical: any non-zero byte is true and outputs are 0 or 1; one element, empty") {
  KernelRunner loose(OpCode::kAnd);
  bools(bools(loose, {3}, {2, 255, 0}), {3}, {7, 1, 9});
  REQUIRE(loose.run().is_ok());
  CHECK(loose.output_as<uint8_t>() == std::vector<uint8_t>{1, 1, 0});
  KernelRunner one(OpCode::kOr);
  bools(bools(one, {1}, {0}), {1}, {0});
  REQUIRE(one.run().is_ok());
  CHECK(one.output_as<uint8_t>() == std::vector<uint8_t>{0});
  KernelRunner empty(OpCode::kAnd);
  bools(bools(empty, {0, 3}, {}), {3}, {1, 1, 1});
  REQUIRE(empty.run().is_ok());
  CHECK(empty.output_shape() == std::vector<int64_t>{0, 3});
}

TEST_CASE("Not: element-wise, any rank, non-zero is true") {
  KernelRunner runner(OpCode::kNot);
  bools(runner, {2, 2}, {0, 1, 3, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output().dtype == DType::kBool);
  CHECK(runner.output_shape() == std::vector<int64_t>{2, 2});
  CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 0, 1});
  KernelRunner scalar(OpCode::kNot);
  bools(scalar, {}, {1});
  REQUIRE(scalar.run().is_ok());
  CHECK(scalar.output_as<uint8_t>() == std::vector<uint8_t>{0});
}

TEST_CASE("logical: non-bool inputs, shapes that do not broadcast and wrong arity are refused at infer") {
  KernelRunner floats(OpCode::kAnd);
  floats.input({2}, {1, 0});
  bools(floats, {2}, {1, 1});
  Status status = floats.run();
  CHECK(status.code() == StatusCode::kInvalidModel);
  CHECK(std::string(status.message()).find("expected bool") != std::string::npos);

  KernelRunner second(OpCode::kXor);
  bools(second, {2}, {1, 0}).input_i64({2}, {1, 0}, false);
  CHECK_FALSE(second.run().is_ok());

  KernelRunner shapes(OpCode::kOr);
  bools(bools(shapes, {2}, {1, 0}), {3}, {1, 0, 1});
  CHECK_FALSE(shapes.run().is_ok());

  KernelRunner one_input(OpCode::kAnd);
  bools(one_input, {2}, {1, 0});
  CHECK_FALSE(one_input.run().is_ok());

  KernelRunner not_float(OpCode::kNot);
  not_float.input({1}, {0});
  CHECK_FALSE(not_float.run().is_ok());

  KernelRunner not_two(OpCode::kNot);
  bools(bools(not_two, {1}, {0}), {1}, {1});
  CHECK_FALSE(not_two.run().is_ok());

  KernelRunner attribute(OpCode::kNot);
  bools(attribute, {1}, {0}).ints({1});
  CHECK_FALSE(attribute.run().is_ok());
}

}  // namespace
}  // namespace edgegen
