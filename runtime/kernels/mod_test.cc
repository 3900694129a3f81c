// Mod: Python's % (fmod 0) and C's fmod (fmod 1), broadcasting, integer
// division by zero without a trap, and the dtype checks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("Mod on integers: the sign of the divisor (fmod 0) or of the dividend (fmod 1)") {
  const std::vector<int32_t> a = {-4, 7, 5, 4, -7, 8}, b = {2, -3, 8, -2, 3, 5};
  KernelRunner python(OpCode::kMod);
  python.input_i32({6}, a, false).input_i32({6}, b, false).ints({0});
  REQUIRE(python.run().is_ok());
  CHECK(python.output_as<int32_t>() == std::vector<int32_t>{0, -2, 5, 0, 2, 3});
  KernelRunner c(OpCode::kMod);
  c.input_i64({6}, {-4, 7, 5, 4, -7, 8}, false).input_i64({6}, {2, -3, 8, -2, 3, 5}, false).ints({1});
  REQUIRE(c.run().is_ok());
  CHECK(c.output_as<int64_t>() == std::vector<int64_t>{0, 1, 5, 0, -1, 3});
}

TEST_CASE("Mod: broadcasting, float fmod, zero divisors and INT_MIN % -1") {
  KernelRunner broadcast(OpCode::kMod);
  broadcast.input_i32({2, 3}, {1, 2, 3, 4, 5, 6}, false).input_i32({1}, {4}, false).ints({0});
  REQUIRE(broadcast.run().is_ok());
  CHECK(broadcast.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(broadcast.output_as<int32_t>() == std::vector<int32_t>{1, 2, 3, 0, 1, 2});
  KernelRunner floats(OpCode::kMod);
  floats.input({4}, {-4.3f, 7.2f, 5.f, 1.f}).input({4}, {2.1f, -3.4f, 8.f, 0.f}).ints({1});
  REQUIRE(floats.run().is_ok());
  std::vector<float> got = floats.output_values();
  CHECK(got[0] == doctest::Approx(std::fmod(-4.3f, 2.1f)));
  CHECK(got[1] == doctest::Approx(std::fmod(7.2f, -3.4f)));
  CHECK(got[2] == 5.f);
  CHECK(std::isnan(got[3]));
  KernelRunner zero(OpCode::kMod);
  zero.input_i32({2}, {5, std::numeric_limits<int32_t>::min()}, false).input_i32({2}, {0, -1}, false).ints({0});
  REQUIRE(zero.run().is_ok());
  CHECK(zero.output_as<int32_t>() == std::vector<int32_t>{0, 0});
}

TEST_CASE("Mod on int8 and uint8") {
  const std::vector<int8_t> a = {-4, 7, -128}, b = {3, -3, -1};
  KernelRunner signed_bytes(OpCode::kMod);
  signed_bytes.input_typed(DType::kInt8, {3}, a.data(), 3).input_typed(DType::kInt8, {3}, b.data(), 3).ints({0});
  REQUIRE(signed_bytes.run().is_ok());
  CHECK(signed_bytes.output_as<int8_t>() == std::vector<int8_t>{2, -2, 0});
  const std::vector<uint8_t> c = {250, 7, 9}, d = {7, 0, 4};
  KernelRunner bytes(OpCode::kMod);
  bytes.input_typed(DType::kUInt8, {3}, c.data(), 3).input_typed(DType::kUInt8, {3}, d.data(), 3).ints({0});
  REQUIRE(bytes.run().is_ok());
  CHECK(bytes.output_as<uint8_t>() == std::vector<uint8_t>{5, 0, 1});
}

TEST_CASE("Mod refuses float fmod 0, mixed dtypes and bool at infer") {
  KernelRunner float_python(OpCode::kMod);
  float_python.input({1}, {1.f}).input({1}, {1.f}).ints({0});
  CHECK(!float_python.infer().is_ok());
  KernelRunner mixed(OpCode::kMod);
  mixed.input_i32({1}, {1}, false).input_i64({1}, {1}, false).ints({0});
  CHECK(!mixed.infer().is_ok());
}

}  // namespace
}  // namespace edgegen
