// LayerNorm (ONNX LayerNormalization, first output only): normalize over
// dims [axis, rank) with the biased variance, then * gamma + beta.
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
//   ax = tuple(range(axis, x.ndim))
//   ((x - x.mean(ax, keepdims=True)) / np.sqrt(x.var(ax, keepdims=True) + eps) * g + b).astype(np.float32)

TEST_CASE("LayerNorm: ONNX backend test test_layer_normalization_2d_axis1") {
  KernelRunner runner(OpCode::kLayerNorm);
  runner
      .input({3, 4}, {1.7640524f, 0.40015721f, 0.97873801f, 2.2408931f, 1.867558f, -0.97727787f, 0.95008844f,
                      -0.1513572f, -0.10321885f, 0.41059852f, 0.14404356f, 1.4542735f})
      .input({4}, {-0.67246044f, -0.35955316f, -0.81314629f, -1.7262826f}, true)
      .input({4}, {0.17742614f, -0.40178093f, -1.6301984f, 0.46278226f}, true)
      .ints({1})
      .floats({1e-5f});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{3, 4});
  // output_0.pb of the ONNX test.
  check_close(runner.output_values(), {-0.21967061f, 0.078528672f, -1.2084484f, -1.7192436f, -0.72348869f,
                                       0.064666867f, -2.0280533f, 1.3806628f, 0.83463955f, -0.36187503f,
                                       -1.1744938f, -2.3834014f});
}

TEST_CASE("LayerNorm: ONNX backend test test_layer_normalization_3d_axis1_epsilon") {
  // Normalizes over two dims; gamma and beta are [3, 5].
  KernelRunner runner(OpCode::kLayerNorm);
  runner
      .input({2, 3, 5},
             {1.7640524f,  0.40015721f, 0.97873801f, 2.2408931f,  1.867558f,   -0.97727787f, 0.95008844f, -0.1513572f,
              -0.10321885f, 0.41059852f, 0.14404356f, 1.4542735f,  0.76103771f, 0.12167501f,  0.44386324f, 0.33367434f,
              1.4940791f,  -0.20515826f, 0.3130677f, -0.85409576f, -2.5529897f, 0.65361857f,  0.86443621f, -0.74216503f,
              2.2697546f,  -1.4543657f,  0.045758516f, -0.18718386f, 1.5327792f,  1.4693588f})
      .input({3, 5},
             {-0.068241604f, 1.7133427f, -0.74475485f, -0.82643855f, -0.098452523f, -0.66347831f, 1.1266359f,
              -1.0799315f, -1.1474687f, -0.43782005f, -0.49803245f, 1.9295321f, 0.94942081f, 0.087551244f,
              -1.2254355f},
             true)
      .input({3, 5},
             {0.84436297f, -1.0002153f, -1.5447711f, 1.1880298f, 0.3169426f, 0.9208588f, 0.31872764f, 0.8568306f,
              -0.65102559f, -1.0342429f, 0.68159449f, -0.80340964f, -0.6895498f, -0.45553249f, 0.017479159f},
             true)
      .ints({1})
      .floats({0.1f});
  REQUIRE(runner.run().is_ok());
  check_close(runner.output_values(),
              {0.76268423f,  -1.5463841f, -1.7862172f,  -0.23907423f, 0.18777983f,  2.1479616f,  0.64810824f,
               1.8629645f,   0.356646f,   -0.89975744f, 0.9821021f,   0.84180945f,  -0.61144286f, -0.51053631f,
               0.34859657f,  0.83710802f, 0.74797428f,  -1.3078541f,  1.1135831f,   0.39858615f,  2.3589151f,
               0.72243047f,  0.29053354f, 0.19936657f,  -1.7484682f,  1.3300765f,   -1.0358648f,  -0.97813195f,
               -0.36353174f, -1.2090186f});
}

TEST_CASE("LayerNorm: gamma and beta broadcast within the normalized dims") {
  // x [2, 3, 4], axis 1: gamma [1, 4] varies along the last dim only, beta
  // [3, 1] along dim 1 only.
  KernelRunner runner(OpCode::kLayerNorm);
  runner
      .input({2, 3, 4}, {1, 2, 0, -1, 3, 3, 1, 0, 2, 0.5f, 4, 1, -2, 0, 2, 4, 1, 1, 1, 2, 0.5f, -0.5f, 1.5f, 2.5f})
      .input({1, 4}, {1, -0.5f, 2, 0.25f}, true)
      .input({3, 1}, {0.5f, 0, -1}, true)
      .ints({1})
      .floats({1e-5f});
  REQUIRE(runner.run().is_ok());
  check_close(runner.output_values(),
              {0.23238522f, 0.27698767f,  -1.4625084f,  0.076276593f, 1.159664f,    -0.57983202f,
               -0.53522956f, -0.24531356f, -0.55397534f, -0.68778276f, 2.7466071f,   -1.0669037f,
               -1.5980726f, 0.86858034f,  1.7475027f,   0.99616581f,  -0.056704666f, 0.028352333f,
               -0.11340933f, 0.15593784f, -1.3969327f,  -0.46130568f, -0.43295333f,  -0.75900519f});
}

TEST_CASE("LayerNorm: absent beta, gamma with a leading 1 before axis") {
  // x [2, 4], axis 1, gamma [1, 4]: ((x - mean) / std * g) with no beta.
  SUBCASE("beta not given") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({2, 4}, {1, 2, 4, 8, -1, 0, 1, 3}).input({1, 4}, {2, 1, 1, 0.5f}, true).ints({1}).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {-2.0515091f, -0.65275294f, 0.093250416f, 0.79262853f, -2.3664265f,
                                         -0.5070914f, 0.16903046f, 0.7606371f});
  }
  SUBCASE("beta an absent optional input") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({2, 4}, {1, 2, 4, 8, -1, 0, 1, 3})
        .input({1, 4}, {2, 1, 1, 0.5f}, true)
        .absent_input()
        .ints({1})
        .floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {-2.0515091f, -0.65275294f, 0.093250416f, 0.79262853f, -2.3664265f,
                                         -0.5070914f, 0.16903046f, 0.7606371f});
  }
}

TEST_CASE("LayerNorm: axis 0, a scalar gamma, one element") {
  SUBCASE("axis 0 normalizes everything") {
    // Same numbers as GroupNorm with one group: rows are the whole tensor.
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({2, 3}, {0.5f, 1, -1, 2, 3, 0}).input({}, {1}, true).input({1}, {0}, true).ints({0}).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(),
                {-0.31943735f, 0.063887469f, -1.4694117f, 0.83053708f, 1.5971867f, -0.70276213f});
  }
  SUBCASE("one element gives beta") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({1}, {3}).input({1}, {2}, true).input({1}, {0.75f}, true).ints({0}).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {0.75f});
  }
}

TEST_CASE("LayerNorm: empty tensors") {
  SUBCASE("zero rows") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({0, 4}, {}).input({4}, {1, 1, 1, 1}, true).ints({1}).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0, 4});
  }
  SUBCASE("zero-length rows") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({3, 0}, {}).input({0}, {}, true).ints({1}).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{3, 0});
  }
}

TEST_CASE("LayerNorm: infer rejects malformed nodes") {
  SUBCASE("gamma of the wrong length") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({2, 4}, std::vector<float>(8, 1.f)).input({3}, {1, 1, 1}, true).ints({1}).floats({1e-5f});
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("input 1") != std::string::npos);
  }
  SUBCASE("gamma varying over a dim before axis") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({2, 4}, std::vector<float>(8, 1.f)).input({2, 4}, std::vector<float>(8, 1.f), true).ints({1}).floats(
        {1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("gamma of higher rank than x") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({4}, std::vector<float>(4, 1.f)).input({1, 1, 4}, std::vector<float>(4, 1.f), true).ints({0}).floats(
        {1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("beta of the wrong shape") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({2, 4}, std::vector<float>(8, 1.f))
        .input({4}, std::vector<float>(4, 1.f), true)
        .input({2}, {0, 0}, true)
        .ints({1})
        .floats({1e-5f});
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("input 2") != std::string::npos);
  }
  SUBCASE("axis equal to the rank") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({2, 4}, std::vector<float>(8, 1.f)).input({1}, {1}, true).ints({2}).floats({1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("negative axis (the converter normalizes axes)") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({2, 4}, std::vector<float>(8, 1.f)).input({4}, std::vector<float>(4, 1.f), true).ints({-1}).floats(
        {1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("scalar x") {
    KernelRunner runner(OpCode::kLayerNorm);
    runner.input({}, {1}).input({}, {1}, true).ints({0}).floats({1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
