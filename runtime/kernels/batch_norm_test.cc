// BatchNorm (inference form): y = act(x * scale[c] + shift[c]).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

// Element-wise within doctest::Approx(...).epsilon(1e-6) (relative, and
// absolute near zero).
void check_close(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-6));
  }
}

TEST_CASE("BatchNorm: per-channel affine map over N, C, spatial") {
  // x[n, c, :] * scale[c] + shift[c], hand-checked.
  KernelRunner runner(OpCode::kBatchNorm);
  runner.input({2, 2, 2}, {1, 2, 3, 4, -1, 0, 0.5f, 8})
      .input({2}, {2, -1}, true)
      .input({2}, {0.5f, 1}, true);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{2, 2, 2});
  check_close(runner.output_values(), {2.5f, 4.5f, -2, -3, -1.5f, 0.5f, 0.5f, -7});
}

TEST_CASE("BatchNorm: fused activations") {
  SUBCASE("relu") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({1, 2, 2}, {1, 2, 3, 4}).input({2}, {2, -1}, true).input({2}, {0.5f, 1}, true);
    runner.activation(ActivationKind::kRelu);
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {2.5f, 4.5f, 0, 0});
  }
  SUBCASE("clip") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({1, 2, 2}, {1, 2, 3, 4}).input({2}, {2, -1}, true).input({2}, {0.5f, 1}, true);
    runner.activation(ActivationKind::kClip, -2.5f, 3.f);
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {2.5f, 3, -2, -2.5f});
  }
}

TEST_CASE("BatchNorm: rank 2 (no spatial dims), one element, odd sizes") {
  SUBCASE("rank 2") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({3, 2}, {1, 2, 3, 4, 5, 6}).input({2}, {10, 0.5f}, true).input({2}, {0, -1}, true);
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {10, 0, 30, 1, 50, 2});
  }
  SUBCASE("one element") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({1, 1, 1, 1}, {3}).input({1}, {-2}, true).input({1}, {0.25f}, true);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{1, 1, 1, 1});
    check_close(runner.output_values(), {-5.75f});
  }
  SUBCASE("odd sizes [1, 3, 1, 3]") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({1, 3, 1, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})
        .input({3}, {1, 0, -1}, true)
        .input({3}, {0, 1, 2}, true);
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {1, 2, 3, 1, 1, 1, -5, -6, -7});
  }
}

TEST_CASE("BatchNorm: empty tensors") {
  SUBCASE("zero batch") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({0, 2, 3}, {}).input({2}, {1, 1}, true).input({2}, {0, 0}, true);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0, 2, 3});
  }
  SUBCASE("zero spatial") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({1, 2, 0}, {}).input({2}, {1, 1}, true).input({2}, {0, 0}, true);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{1, 2, 0});
  }
}

TEST_CASE("BatchNorm: infer rejects malformed nodes") {
  SUBCASE("scale of the wrong length") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({1, 2, 2}, {1, 2, 3, 4}).input({3}, {1, 1, 1}, true).input({2}, {0, 0}, true);
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("input 1") != std::string::npos);
  }
  SUBCASE("x of rank 1") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({2}, {1, 2}).input({2}, {1, 1}, true).input({2}, {0, 0}, true);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("int32 x") {
    std::vector<int32_t> x = {1, 2};
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input_typed(DType::kInt32, {1, 2}, x.data(), 8).input({2}, {1, 1}, true).input({2}, {0, 0}, true);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("missing shift") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({1, 2}, {1, 2}).input({2}, {1, 1}, true);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("unexpected epsilon attribute") {
    KernelRunner runner(OpCode::kBatchNorm);
    runner.input({1, 2}, {1, 2}).input({2}, {1, 1}, true).input({2}, {0, 0}, true).floats({1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
