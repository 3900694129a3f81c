// FullyConnected reference kernel: y[..., n] = act(x[..., :] . weight[n, :] + bias[n]).
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

const std::vector<float> kWeight = {0.5f, -1.f, 2.f,  //
                                    1.f, 1.f, 1.f};

TEST_CASE("FullyConnected: 2-D input with bias") {
  KernelRunner runner(OpCode::kFullyConnected);
  runner.input({2, 3}, {1, 2, 3, -1, 0.5f, 2}).input({2, 3}, kWeight, true).input({2}, {0.25f, -3}, true);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{2, 2});
  // x @ w.T + b
  check_values(runner.output_values(), {4.75f, 3.f, 3.25f, -1.5f});
}

TEST_CASE("FullyConnected: rank-1 input gives rank-1 output") {
  KernelRunner runner(OpCode::kFullyConnected);
  runner.input({3}, {1, 2, 3}).input({2, 3}, kWeight, true).input({2}, {0.25f, -3}, true);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{2});
  check_values(runner.output_values(), {4.75f, 3.f});
}

TEST_CASE("FullyConnected: rank-3 input, no bias, fused Relu") {
  KernelRunner runner(OpCode::kFullyConnected);
  runner.input({2, 1, 3}, {1, -2, 3, 0.5f, 0.5f, -4}).input({2, 3}, kWeight, true).absent_input();
  runner.activation(ActivationKind::kRelu);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{2, 1, 2});
  // np.maximum(x @ w.T, 0): the raw products are [8.5, 2, -8.25, -3].
  check_values(runner.output_values(), {8.5f, 2.f, 0.f, 0.f});
}

TEST_CASE("FullyConnected: bias input omitted entirely") {
  KernelRunner runner(OpCode::kFullyConnected);
  runner.input({1, 3}, {1, -2, 3}).input({2, 3}, kWeight, true);
  REQUIRE(runner.run().is_ok());
  check_values(runner.output_values(), {8.5f, 2.f});
}

TEST_CASE("FullyConnected: fused LeakyRelu and Clip") {
  const std::vector<float> x = {1, 2, 3, -1, 0.5f, 2};
  SUBCASE("LeakyRelu alpha 0.1") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, x).input({2, 3}, kWeight, true).input({2}, {0.25f, -3}, true);
    runner.activation(ActivationKind::kLeakyRelu, 0.1f);
    REQUIRE(runner.run().is_ok());
    check_values(runner.output_values(), {4.75f, 3.f, 3.25f, -0.15f});
  }
  SUBCASE("Clip [-1, 1]") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, x).input({2, 3}, kWeight, true).input({2}, {0.25f, -3}, true);
    runner.activation(ActivationKind::kClip, -1.f, 1.f);
    REQUIRE(runner.run().is_ok());
    check_values(runner.output_values(), {1.f, 1.f, 1.f, -1.f});
  }
}

TEST_CASE("FullyConnected: weight computed at run time (not a constant)") {
  KernelRunner runner(OpCode::kFullyConnected);
  runner.input({1, 3}, {1, 2, 3}).input({2, 3}, kWeight, false).input({2}, {0.25f, -3}, false);
  REQUIRE(runner.run().is_ok());
  check_values(runner.output_values(), {4.75f, 3.f});
}

TEST_CASE("FullyConnected: one element") {
  KernelRunner runner(OpCode::kFullyConnected);
  runner.input({1}, {3}).input({1, 1}, {-2}, true).input({1}, {0.5f}, true);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1});
  check_values(runner.output_values(), {-5.5f});
}

TEST_CASE("FullyConnected: odd sizes") {
  // x = arange(10).reshape(2, 5), w = (arange(15) % 4 - 1.5).reshape(3, 5): x @ w.T
  std::vector<float> x(10), w(15);
  for (int i = 0; i < 10; ++i) x[i] = static_cast<float>(i);
  for (int i = 0; i < 15; ++i) w[i] = static_cast<float>(i % 4) - 1.5f;
  KernelRunner runner(OpCode::kFullyConnected);
  runner.input({2, 5}, x).input({3, 5}, w, true);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{2, 3});
  check_values(runner.output_values(), {-1.f, -3.f, -1.f, -8.5f, -5.5f, 1.5f});
}

TEST_CASE("FullyConnected: empty tensors") {
  SUBCASE("zero rows") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({0, 3}, {}).input({2, 3}, kWeight, true);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{0, 2});
  }
  SUBCASE("zero depth: the output is the bias") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 0}, {}).input({3, 0}, {}, true).input({3}, {1, -2, 3}, true);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{2, 3});
    check_values(runner.output_values(), {1, -2, 3, 1, -2, 3});
  }
  SUBCASE("zero units") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, {1, 2, 3, 4, 5, 6}).input({0, 3}, {}, true);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{2, 0});
  }
}

TEST_CASE("FullyConnected: infer rejects malformed nodes") {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  SUBCASE("depth mismatch") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({3, 2}, x).input({2, 3}, kWeight, true);
    Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("FullyConnected 'test'") != std::string::npos);
    CHECK(std::string(status.message()).find("weight 'input1'") != std::string::npos);
  }
  SUBCASE("bias of the wrong length") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, x).input({2, 3}, kWeight, true).input({3}, {1, 2, 3}, true);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("weight of rank 3") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, x).input({1, 2, 3}, kWeight, true);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("scalar input") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({}, {1}).input({1, 1}, {1}, true);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("int32 input") {
    const int32_t values[6] = {1, 2, 3, 4, 5, 6};
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input_typed(DType::kInt32, {2, 3}, values, sizeof values).input({2, 3}, kWeight, true);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("missing weight") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, x);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("stray attributes") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, x).input({2, 3}, kWeight, true).ints({1});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("unknown activation") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, x).input({2, 3}, kWeight, true).activation(static_cast<ActivationKind>(99));
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("two outputs") {
    KernelRunner runner(OpCode::kFullyConnected);
    runner.input({2, 3}, x).input({2, 3}, kWeight, true).num_outputs(2);
    CHECK_FALSE(runner.infer().is_ok());
  }
}

}  // namespace
}  // namespace edgegen
