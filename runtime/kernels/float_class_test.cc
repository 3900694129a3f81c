// IsNaN and IsInf: bool outputs of float32 inputs; IsInf's two switches.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

const std::vector<float> kValues = {1.f, -std::numeric_limits<float>::infinity(), std::nanf(""),
                                    std::numeric_limits<float>::infinity(), 0.f, -3e38f};

TEST_CASE("IsNaN: true only for NaN") {
  KernelRunner runner(OpCode::kIsNaN);
  runner.input({6}, kValues);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output().dtype == DType::kBool);
  CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{0, 0, 1, 0, 0, 0});
}

TEST_CASE("IsInf: detect_negative and detect_positive select the infinities") {
  struct Case { int64_t negative, positive; std::vector<uint8_t> expected; };
  for (const Case& c : {Case{1, 1, {0, 1, 0, 1, 0, 0}}, Case{1, 0, {0, 1, 0, 0, 0, 0}},
                        Case{0, 1, {0, 0, 0, 1, 0, 0}}, Case{0, 0, {0, 0, 0, 0, 0, 0}}}) {
    KernelRunner runner(OpCode::kIsInf);
    runner.input({2, 3}, kValues).ints({c.negative, c.positive});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 3});
    CHECK(runner.output_as<uint8_t>() == c.expected);
  }
}

TEST_CASE("IsNaN, IsInf refuse non-float inputs and bad switches at infer") {
  KernelRunner ints(OpCode::kIsNaN);
  ints.input_i32({2}, {1, 2}, false);
  CHECK(!ints.infer().is_ok());
  KernelRunner bad(OpCode::kIsInf);
  bad.input({1}, {1.f}).ints({2, 1});
  CHECK(!bad.infer().is_ok());
}

}  // namespace
}  // namespace edgegen
