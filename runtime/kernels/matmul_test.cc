// MatMul reference kernel: numpy.matmul semantics.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;
using Dims = std::vector<int64_t>;

// Element-wise comparison; doctest's Approx is relative with an absolute floor of `tolerance`.
void check_values(const std::vector<float>& actual, const std::vector<float>& expected, double tolerance = 1e-6) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    INFO("element ", i);
    CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(tolerance));
  }
}

std::vector<float> arange(size_t count, float start) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = start + static_cast<float>(i);
  return values;
}

const std::vector<float> kA = {1, 2, 3, 4, 5, 6};  // [2, 3]
const std::vector<float> kB = {1, -1, 0, 2, 0.5f, 0};  // [3, 2]

TEST_CASE("MatMul: 2-D") {
  KernelRunner runner(OpCode::kMatMul);
  runner.input({2, 3}, kA).input({3, 2}, kB);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{2, 2});
  check_values(runner.output_values(), {2.5f, 3, 7, 6});  // A @ B
}

TEST_CASE("MatMul: ONNX test_matmul_3d") {
  KernelRunner runner(OpCode::kMatMul);
  runner.input({2, 3, 4}, {2.2697546f,  -1.4543657f, 0.045758516f, -0.18718386f, 1.5327792f,  1.4693588f,
                           0.15494743f, 0.37816253f, -0.88778573f, -1.9807965f,  -0.34791216f, 0.15634897f,
                           1.2302907f,  1.2023798f,  -0.38732681f, -0.30230275f, -1.048553f,   -1.420018f,
                           -1.7062702f, 1.9507754f,  -0.5096522f,  -0.43807429f, -1.2527953f,  0.77749038f});
  runner.input({2, 4, 3}, {-1.6138978f,  -0.21274029f, -0.89546657f, 0.38690251f,  -0.51080513f, -1.1806322f,
                           -0.028182229f, 0.42833188f,  0.066517219f, 0.30247191f,  -0.63432211f, -0.36274117f,
                           -0.67246044f, -0.35955316f, -0.81314629f, -1.7262826f,  0.17742614f,  -0.40178093f,
                           -1.6301984f,  0.46278226f,  -0.90729839f, 0.051945396f, 0.72909057f,  0.12898292f});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{2, 3, 3});
  check_values(runner.output_values(),
               {-4.2837567f, 0.39836392f, -0.24447522f, -1.7952335f, -1.2501478f, -3.2341933f,
                0.7235164f,  0.95247132f, 3.0537181f,   -2.2872529f, -0.62867534f, -1.1710705f,
                6.0393553f,  0.75772256f, 3.2228761f,   3.181653f,   0.09261068f,  1.8273739f},
               1e-5);
}

TEST_CASE("MatMul: rank-1 operands") {
  SUBCASE("vector x vector is a scalar") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({3}, {1, 2, 3}).input({3}, {4, 5, 6});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{});
    check_values(runner.output_values(), {32});
  }
  SUBCASE("vector x matrix") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({3}, {1, 2, 3}).input({3, 2}, kB);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{2});
    check_values(runner.output_values(), {2.5f, 3});
  }
  SUBCASE("matrix x vector") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({2, 3}, kA).input({3}, {1, 0, -1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{2});
    check_values(runner.output_values(), {-2, -2});
  }
  SUBCASE("vector x batch of matrices") {
    // [1, 0, -1] @ arange(12).reshape(2, 3, 2)
    KernelRunner runner(OpCode::kMatMul);
    runner.input({3}, {1, 0, -1}).input({2, 3, 2}, arange(12, 0));
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{2, 2});
    check_values(runner.output_values(), {-4, -4, -4, -4});
  }
  SUBCASE("batch of matrices x vector") {
    // arange(12).reshape(2, 2, 3) @ [1, 0, -1]
    KernelRunner runner(OpCode::kMatMul);
    runner.input({2, 2, 3}, arange(12, 0)).input({3}, {1, 0, -1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{2, 2});
    check_values(runner.output_values(), {-2, -2, -2, -2});
  }
}

TEST_CASE("MatMul: broadcast batch dims on both sides") {
  // a = arange(12).reshape(2, 1, 2, 3) - 5; b = (arange(18).reshape(3, 3, 2) % 5) * 0.5; a @ b
  std::vector<float> b(18);
  for (int i = 0; i < 18; ++i) b[i] = static_cast<float>(i % 5) * 0.5f;
  KernelRunner runner(OpCode::kMatMul);
  runner.input({2, 1, 2, 3}, arange(12, -5)).input({3, 3, 2}, b);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{2, 3, 2, 2});
  check_values(runner.output_values(), {-10, -8.5f, -1, -2.5f, -8.5f, -14.5f, -2.5f, -4, -14.5f, -10.5f, -4, -3,
                                        8,   3.5f,  17, 9.5f,  3.5f,  6.5f,   9.5f,  17, 6.5f,   4.5f,   17, 12});
}

TEST_CASE("MatMul: one element") {
  KernelRunner runner(OpCode::kMatMul);
  runner.input({1, 1}, {3}).input({1, 1}, {-2});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1});
  check_values(runner.output_values(), {-6});
}

TEST_CASE("MatMul: empty tensors") {
  SUBCASE("zero inner dim gives zeros") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({2, 0}, {}).input({0, 3}, {});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{2, 3});
    check_values(runner.output_values(), {0, 0, 0, 0, 0, 0});
  }
  SUBCASE("zero rows") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({0, 3}, {}).input({3, 2}, kB);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{0, 2});
  }
  SUBCASE("zero batch broadcast against one") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({0, 2, 3}, {}).input({1, 3, 2}, kB);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{0, 2, 2});
  }
}

TEST_CASE("MatMul: infer rejects malformed nodes") {
  SUBCASE("inner dims differ") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({2, 3}, kA).input({2, 3}, kA);
    Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("MatMul 'test': inner dims") != std::string::npos);
  }
  SUBCASE("vector lengths differ") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({3}, {1, 2, 3}).input({2}, {1, 2});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("batch dims do not broadcast") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({2, 1, 3}, kA).input({3, 3, 1}, std::vector<float>(9, 1.f));
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("scalar operand") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({}, {2}).input({3}, {1, 2, 3});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("int64 operands") {
    const int64_t values[4] = {1, 2, 3, 4};
    KernelRunner runner(OpCode::kMatMul);
    runner.input_typed(DType::kInt64, {2, 2}, values, sizeof values).input_typed(DType::kInt64, {2, 2}, values,
                                                                                 sizeof values);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({2, 3}, kA).input({3, 2}, kB).activation(ActivationKind::kRelu);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("three inputs") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({2, 3}, kA).input({3, 2}, kB).input({2}, {1, 2});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("attributes present") {
    KernelRunner runner(OpCode::kMatMul);
    runner.input({2, 3}, kA).input({3, 2}, kB).ints({0});
    CHECK_FALSE(runner.infer().is_ok());
  }
}

}  // namespace
}  // namespace edgegen
