// InstanceNorm (ONNX InstanceNormalization): each (n, c) plane normalized
// over its spatial elements with the biased variance, then gamma[c], beta[c].
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

// Element-wise within doctest::Approx(...).epsilon(1e-5) (relative, and
// absolute near zero).
void check_close(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-5));
  }
}

// NumPy reference, in float64 then cast:
//   ax = tuple(range(2, x.ndim)); sh = [1, -1] + [1] * (x.ndim - 2)
//   ((x - x.mean(ax, keepdims=True)) / np.sqrt(x.var(ax, keepdims=True) + eps)
//    * g.reshape(sh) + b.reshape(sh)).astype(np.float32)

TEST_CASE("InstanceNorm: ONNX backend test test_instancenorm_example") {
  KernelRunner runner(OpCode::kInstanceNorm);
  runner.input({1, 2, 1, 3}, {-1, 0, 1, 2, 3, 4})
      .input({2}, {1, 1.5f}, true)
      .input({2}, {0, 1}, true)
      .floats({1e-5f});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{1, 2, 1, 3});
  // output_0.pb of the ONNX test.
  check_close(runner.output_values(), {-1.2247356f, 0.f, 1.2247356f, -0.83710349f, 1.f, 2.8371034f});
}

TEST_CASE("InstanceNorm: odd sizes, a constant plane, per-channel gamma and beta") {
  KernelRunner runner(OpCode::kInstanceNorm);
  runner
      .input({2, 3, 5}, {0.5f, 1.5f, -2, 3, 0.25f, 1, 1, 1, 1, 2, -4, 0, 4, 8, 0.5f,
                         2, -1, 0.5f, 3, 3, 0, 0, 0, 0, 0, 9, -9, 1, 2, 3})
      .input({3}, {0.5f, -1, 2}, true)
      .input({3}, {0.1f, 0, -0.3f}, true)
      .floats({1e-5f});
  REQUIRE(runner.run().is_ok());
  // The all-zero plane has zero variance: it maps to beta (0), not NaN.
  check_close(runner.output_values(),
              {0.05427178f, 0.3591266f, -0.70786524f, 0.81640881f, -0.021941924f, 0.49998438f, 0.49998438f,
               0.49998438f, 0.49998438f, -1.9999375f, -3.1184678f, -1.1405957f, 0.83727646f, 2.8151486f,
               -0.89336163f, 0.26137397f, -0.70686984f, -0.22274794f, 0.58412188f, 0.58412188f, 0.f, 0.f, 0.f, 0.f,
               0.f, 2.3848703f, -3.8109844f, -0.36884284f, -0.024628697f, 0.31958544f});
}

TEST_CASE("InstanceNorm: a large mean does not cancel the variance") {
  // Float32 E[x^2] - E[x]^2 would give garbage here (x^2 ~ 1e12).
  KernelRunner runner(OpCode::kInstanceNorm);
  runner.input({1, 1, 4}, {1e6f, 1e6f + 0.25f, 1e6f + 0.5f, 1e6f + 0.75f})
      .input({1}, {1}, true)
      .input({1}, {0}, true)
      .floats({1e-5f});
  REQUIRE(runner.run().is_ok());
  check_close(runner.output_values(), {-1.3415549f, -0.44718498f, 0.44718498f, 1.3415549f});
}

TEST_CASE("InstanceNorm: one-element planes give beta") {
  SUBCASE("rank 2") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({2, 2}, {5, -3, 7, 100}).input({2}, {3, 4}, true).input({2}, {0.5f, -1}, true).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {0.5f, -1, 0.5f, -1});
  }
  SUBCASE("[1, 1, 1, 1]") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({1, 1, 1, 1}, {42}).input({1}, {3}, true).input({1}, {0.25f}, true).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {0.25f});
  }
}

TEST_CASE("InstanceNorm: empty tensors") {
  SUBCASE("zero spatial") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({1, 2, 0, 3}, {}).input({2}, {1, 1}, true).input({2}, {0, 0}, true).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{1, 2, 0, 3});
  }
  SUBCASE("zero batch") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({0, 2, 4}, {}).input({2}, {1, 1}, true).input({2}, {0, 0}, true).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0, 2, 4});
  }
}

TEST_CASE("InstanceNorm: infer rejects malformed nodes") {
  SUBCASE("gamma of the wrong length") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({1, 2, 2}, {1, 2, 3, 4}).input({1}, {1}, true).input({2}, {0, 0}, true).floats({1e-5f});
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("input 1") != std::string::npos);
  }
  SUBCASE("missing epsilon") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({1, 2, 2}, {1, 2, 3, 4}).input({2}, {1, 1}, true).input({2}, {0, 0}, true);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("negative epsilon") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({1, 2, 2}, {1, 2, 3, 4}).input({2}, {1, 1}, true).input({2}, {0, 0}, true).floats({-1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({1, 2, 2}, {1, 2, 3, 4}).input({2}, {1, 1}, true).input({2}, {0, 0}, true).floats({1e-5f});
    runner.activation(ActivationKind::kRelu);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("x of rank 1") {
    KernelRunner runner(OpCode::kInstanceNorm);
    runner.input({2}, {1, 2}).input({2}, {1, 1}, true).input({2}, {0, 0}, true).floats({1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
