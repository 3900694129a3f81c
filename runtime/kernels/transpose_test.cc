// Transpose: output dim i is input dim perm[i]; elements moved as bytes.
#include <doctest/doctest.h>

#include <cstdint>
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

TEST_CASE("Transpose: ONNX backend test test_transpose_all_permutations_3") {
  KernelRunner runner(OpCode::kTranspose);
  runner
      .input({2, 3, 4}, {0.54881352f, 0.71518934f, 0.60276335f, 0.54488319f, 0.42365479f, 0.64589411f,
                         0.43758720f, 0.89177299f, 0.96366274f, 0.38344151f, 0.79172504f, 0.52889490f,
                         0.56804454f, 0.92559665f, 0.07103606f, 0.08712930f, 0.02021840f, 0.83261985f,
                         0.77815676f, 0.87001216f, 0.97861832f, 0.79915857f, 0.46147937f, 0.78052920f})
      .ints({1, 2, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{3, 4, 2});
  // output_0.pb of the ONNX test (exact: a transpose only moves values).
  CHECK(runner.output_values() ==
        std::vector<float>{0.54881352f, 0.56804454f, 0.71518934f, 0.92559665f, 0.60276335f, 0.07103606f,
                           0.54488319f, 0.08712930f, 0.42365479f, 0.02021840f, 0.64589411f, 0.83261985f,
                           0.43758720f, 0.77815676f, 0.89177299f, 0.87001216f, 0.96366274f, 0.97861832f,
                           0.38344151f, 0.79915857f, 0.79172504f, 0.46147937f, 0.52889490f, 0.78052920f});
}

TEST_CASE("Transpose: permutations of a [2, 3, 4] arange") {
  // np.arange(24).reshape(2, 3, 4).transpose(perm).flatten()
  SUBCASE("perm (0, 2, 1)") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({2, 3, 4}, iota_floats(24)).ints({0, 2, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 4, 3});
    CHECK(runner.output_values() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11,
                                                       12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23});
  }
  SUBCASE("perm (2, 0, 1)") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({2, 3, 4}, iota_floats(24)).ints({2, 0, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{4, 2, 3});
    CHECK(runner.output_values() == std::vector<float>{0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21,
                                                       2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23});
  }
}

TEST_CASE("Transpose: every element size") {
  SUBCASE("int64 matrix") {
    // np.arange(6).reshape(2, 3).T
    KernelRunner runner(OpCode::kTranspose);
    runner.input_i64({2, 3}, {0, 1, 2, 3, 4, 5}, false).ints({1, 0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output(0).dtype == DType::kInt64);
    CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{0, 3, 1, 4, 2, 5});
  }
  SUBCASE("uint8 NCHW to NHWC") {
    // np.arange(12).reshape(1, 3, 2, 2).transpose(0, 2, 3, 1)
    std::vector<uint8_t> x(12);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i);
    KernelRunner runner(OpCode::kTranspose);
    runner.input_typed(DType::kUInt8, {1, 3, 2, 2}, x.data(), x.size()).ints({0, 2, 3, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{1, 2, 2, 3});
    CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  }
  SUBCASE("float16 bits") {
    const uint16_t x[4] = {0x3c00, 0x4000, 0x4200, 0x4400};
    KernelRunner runner(OpCode::kTranspose);
    runner.input_typed(DType::kFloat16, {2, 2}, x, sizeof x).ints({1, 0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<uint16_t>() == std::vector<uint16_t>{0x3c00, 0x4200, 0x4000, 0x4400});
  }
}

TEST_CASE("Transpose: rank 5 matches the index formula") {
  // out[i0, i1, i2, i3, i4] == x[i2, i4, i1, i3, i0] for perm (4, 2, 0, 3, 1)
  // and x = arange over [1, 2, 3, 4, 5]: an odd-sized check of the odometer.
  const int64_t dims[5] = {1, 2, 3, 4, 5};
  KernelRunner runner(OpCode::kTranspose);
  runner.input({1, 2, 3, 4, 5}, iota_floats(120)).ints({4, 2, 0, 3, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{5, 3, 1, 4, 2});
  const std::vector<float> out = runner.output_values();
  size_t k = 0;
  for (int64_t a = 0; a < 5; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 1; ++c)
        for (int64_t d = 0; d < 4; ++d)
          for (int64_t e = 0; e < 2; ++e) {
            // x index: [c, e, b, d, a]
            const int64_t flat = (((c * dims[1] + e) * dims[2] + b) * dims[3] + d) * dims[4] + a;
            CHECK(out[k++] == static_cast<float>(flat));
          }
}

TEST_CASE("Transpose: scalars, vectors and empty tensors") {
  SUBCASE("rank 0, empty perm") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({}, {3.5f}).ints({});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape().empty());
    CHECK(runner.output_values() == std::vector<float>{3.5f});
  }
  SUBCASE("rank 1 identity") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({3}, {1, 2, 3}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{1, 2, 3});
  }
  SUBCASE("a zero dim") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({2, 0, 3}, {}).ints({2, 0, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{3, 2, 0});
  }
}

TEST_CASE("Transpose: infer rejects malformed perms") {
  SUBCASE("perm shorter than the rank") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({2, 3}, iota_floats(6)).ints({1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("repeated axis") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({2, 3}, iota_floats(6)).ints({1, 1});
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("perm[1]") != std::string::npos);
  }
  SUBCASE("axis out of range") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({2, 3}, iota_floats(6)).ints({0, 2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("negative axis") {
    KernelRunner runner(OpCode::kTranspose);
    runner.input({2, 3}, iota_floats(6)).ints({-1, 0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
