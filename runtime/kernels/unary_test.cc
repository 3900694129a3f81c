#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::nanf("");

// Each value within `rel` relative or `abs` absolute error; inf and NaN must match exactly.
void check_close(const std::vector<float>& actual, const std::vector<float>& expected, float rel = 1e-5f,
                 float abs = 1e-6f) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    if (std::isnan(expected[i])) {
      CHECK(std::isnan(actual[i]));
    } else if (std::isinf(expected[i])) {
      CHECK(actual[i] == expected[i]);
    } else {
      CHECK(std::fabs(actual[i] - expected[i]) <= abs + rel * std::fabs(expected[i]));
    }
  }
}

// Runs a unary op on a 1-D tensor and returns its output values.
std::vector<float> run_unary(OpCode op, const std::vector<float>& x, std::vector<float> floats = {},
                             std::vector<int64_t> ints = {}) {
  KernelRunner runner(op);
  runner.input({static_cast<int64_t>(x.size())}, x).floats(floats).ints(ints);
  Status status = runner.run();
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  CHECK(runner.output_shape() == std::vector<int64_t>{static_cast<int64_t>(x.size())});
  return runner.output_values();
}

// x used by most cases below; NumPy expressions evaluate on np.float32(x).
const std::vector<float> kX = {-3.f, -1.f, -0.5f, 0.f, 0.5f, 1.f, 3.f};

TEST_CASE("Relu: max(x, 0), NaN passes through") {
  check_close(run_unary(OpCode::kRelu, {-2.f, -0.5f, 0.f, 0.5f, 3.f, kNaN, -kInf, kInf}),
              {0.f, 0.f, 0.f, 0.5f, 3.f, kNaN, 0.f, kInf});
}

TEST_CASE("LeakyRelu: alpha * x below zero") {
  check_close(run_unary(OpCode::kLeakyRelu, {-10.f, -1.f, 0.f, 2.f}, {0.1f}), {-1.f, -0.1f, 0.f, 2.f});
}

TEST_CASE("Sigmoid: stable for large |x|") {
  // 1 / (1 + np.exp(-x))
  check_close(run_unary(OpCode::kSigmoid, kX),
              {0.047425874f, 0.2689414f, 0.37754068f, 0.5f, 0.62245935f, 0.7310586f, 0.95257413f});
  // float64: 1 / (1 + np.exp([100, 20, -20, -100])); the tiny values need a relative check.
  std::vector<float> big = run_unary(OpCode::kSigmoid, {-100.f, -20.f, 20.f, 100.f, -kInf, kInf});
  CHECK(big[0] == doctest::Approx(3.7200760e-44).epsilon(1e-1));  // a float32 subnormal
  CHECK(big[1] == doctest::Approx(2.0611537e-09).epsilon(1e-5));
  CHECK(big[2] == 1.f);
  CHECK(big[3] == 1.f);
  CHECK(big[4] == 0.f);
  CHECK(big[5] == 1.f);
}

TEST_CASE("Tanh") {
  // np.tanh(x)
  check_close(run_unary(OpCode::kTanh, kX),
              {-0.9950548f, -0.7615942f, -0.4621172f, 0.f, 0.4621172f, 0.7615942f, 0.9950548f});
}

TEST_CASE("Elu: alpha * (exp(x) - 1) below zero") {
  // np.where(x < 0, 1.5 * (np.exp(x) - 1), x)
  check_close(run_unary(OpCode::kElu, kX, {1.5f}), {-1.4253194f, -0.94818085f, -0.590204f, 0.f, 0.5f, 1.f, 3.f});
}

TEST_CASE("Softplus: log(1 + exp(x)) without overflow or loss") {
  // float64: np.log1p(np.exp(x))
  std::vector<float> y = run_unary(OpCode::kSoftplus, {-100.f, -20.f, -1.f, 0.f, 1.f, 20.f, 100.f, kInf, -kInf});
  CHECK(y[0] == doctest::Approx(3.7835059e-44).epsilon(1e-1));  // subnormal
  check_close({y.begin() + 1, y.end()}, {2.0611537e-09f, 0.31326169f, 0.69314718f, 1.3132616f, 20.f, 100.f, kInf, 0.f},
              1e-6f, 0.f);
}

TEST_CASE("Exp, Log, Sqrt, Reciprocal: IEEE special values as NumPy") {
  // np.exp(x)
  check_close(run_unary(OpCode::kExp, kX),
              {0.049787067f, 0.36787942f, 0.60653067f, 1.f, 1.6487212f, 2.718282f, 20.085537f});
  check_close(run_unary(OpCode::kExp, {-kInf, 100.f}), {0.f, kInf});
  // np.log([0, -1, 0.5, 1, 2, 10, inf])
  check_close(run_unary(OpCode::kLog, {0.f, -1.f, 0.5f, 1.f, 2.f, 10.f, kInf}),
              {-kInf, kNaN, -0.6931472f, 0.f, 0.6931472f, 2.3025851f, kInf});
  check_close(run_unary(OpCode::kSqrt, {0.f, 0.25f, 2.f, 9.f, -1.f}), {0.f, 0.5f, 1.4142135f, 3.f, kNaN});
  check_close(run_unary(OpCode::kReciprocal, {-4.f, 0.5f, 2.f, 3.f, 0.f, -0.f}),
              {-0.25f, 2.f, 0.5f, 0.33333334f, kInf, -kInf});
}

TEST_CASE("Neg, Abs, Floor, Ceil") {
  check_close(run_unary(OpCode::kNeg, {-2.f, 0.f, 1.5f}), {2.f, -0.f, -1.5f});
  check_close(run_unary(OpCode::kAbs, {-2.f, -0.f, 1.5f, -kInf}), {2.f, 0.f, 1.5f, kInf});
  check_close(run_unary(OpCode::kFloor, {-1.5f, -0.5f, 0.5f, 2.f, 2.7f}), {-2.f, -1.f, 0.f, 2.f, 2.f});
  check_close(run_unary(OpCode::kCeil, {-1.5f, -0.5f, 0.5f, 2.f, 2.2f}), {-1.f, -0.f, 1.f, 2.f, 3.f});
}

TEST_CASE("Sign as np.sign, Round halves to even as np.round") {
  check_close(run_unary(OpCode::kSign, {-3.f, -0.f, 0.f, 2.5f, -kInf, kInf, kNaN}), {-1.f, 0.f, 0.f, 1.f, -1.f, 1.f, kNaN});
  check_close(run_unary(OpCode::kRound, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, 2.6f, -2.6f, kInf}),
              {0.f, 2.f, 2.f, -0.f, -2.f, 2.f, 3.f, -3.f, kInf});
}

TEST_CASE("Clip: min(max(x, lo), hi) as np.clip") {
  check_close(run_unary(OpCode::kClip, {-5.f, -1.f, 0.f, 6.f, 7.f, kNaN}, {-1.f, 6.f}),
              {-1.f, -1.f, 0.f, 6.f, 6.f, kNaN});
  // ONNX: lo > hi sets everything to hi.
  check_close(run_unary(OpCode::kClip, {-5.f, 0.f, 5.f}, {2.f, 1.f}), {1.f, 1.f, 1.f});
  // The converter passes +-inf for a missing bound.
  check_close(run_unary(OpCode::kClip, {-5.f, 0.f, 5.f}, {-kInf, 1.f}), {-5.f, 0.f, 1.f});
}

TEST_CASE("Silu: x * sigmoid(x)") {
  // x / (1 + np.exp(-x))
  check_close(run_unary(OpCode::kSilu, kX),
              {-0.14227761f, -0.26894143f, -0.18877034f, 0.f, 0.31122968f, 0.7310586f, 2.8577223f});
  check_close(run_unary(OpCode::kSilu, {-200.f}), {-0.f});
}

TEST_CASE("Gelu: erf and tanh approximations") {
  // 0.5 * x * (1 + erf(x / sqrt(2)))
  check_close(run_unary(OpCode::kGelu, kX, {}, {0}),
              {-0.004049694f, -0.15865526f, -0.15426877f, 0.f, 0.34573123f, 0.8413448f, 2.9959502f}, 1e-5f, 1e-7f);
  // 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))
  check_close(run_unary(OpCode::kGelu, kX, {}, {1}),
              {-0.003637392f, -0.15880801f, -0.154286f, 0.f, 0.345714f, 0.841192f, 2.9963627f}, 1e-5f, 1e-7f);
}

TEST_CASE("Sin, Cos, Erf") {
  check_close(run_unary(OpCode::kSin, kX),
              {-0.14112f, -0.841471f, -0.47942555f, 0.f, 0.47942555f, 0.841471f, 0.14112f});
  check_close(run_unary(OpCode::kCos, kX),
              {-0.9899925f, 0.5403023f, 0.87758255f, 1.f, 0.87758255f, 0.5403023f, -0.9899925f});
  // math.erf(x)
  check_close(run_unary(OpCode::kErf, kX),
              {-0.9999779f, -0.8427008f, -0.5204999f, 0.f, 0.5204999f, 0.8427008f, 0.9999779f});
}

TEST_CASE("HardSigmoid: max(0, min(1, alpha * x + beta))") {
  // np.clip(0.2 * x + 0.5, 0, 1)
  check_close(run_unary(OpCode::kHardSigmoid, kX, {0.2f, 0.5f}), {0.f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 1.f});
}

TEST_CASE("unary ops keep any shape: scalar, one element, odd sizes, empty") {
  KernelRunner scalar(OpCode::kNeg);
  scalar.input({}, {2.5f});
  REQUIRE(scalar.run().is_ok());
  CHECK(scalar.output_shape().empty());
  CHECK(scalar.output_values() == std::vector<float>{-2.5f});

  KernelRunner odd(OpCode::kAbs);
  odd.input({3, 1, 5}, {-1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11, 12, -13, 14, -15});
  REQUIRE(odd.run().is_ok());
  CHECK(odd.output_shape() == std::vector<int64_t>{3, 1, 5});
  CHECK(odd.output_values() == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});

  KernelRunner empty(OpCode::kExp);
  empty.input({2, 0, 3}, {});
  REQUIRE(empty.run().is_ok());
  CHECK(empty.output_shape() == std::vector<int64_t>{2, 0, 3});
}

TEST_CASE("Identity copies any dtype and shape") {
  const int64_t values[] = {1, -2, int64_t{1} << 40, 4, 5, 6};
  KernelRunner runner(OpCode::kIdentity);
  runner.input_typed(DType::kInt64, {2, 3}, values, sizeof values);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output().dtype == DType::kInt64);
  CHECK(runner.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(runner.output_as<int64_t>() == std::vector<int64_t>(values, values + 6));

  const uint8_t flags[] = {1, 0, 1};
  KernelRunner bools(OpCode::kIdentity);
  bools.input_typed(DType::kBool, {3}, flags, sizeof flags);
  REQUIRE(bools.run().is_ok());
  CHECK(bools.output().dtype == DType::kBool);
  CHECK(bools.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 1});

  KernelRunner empty(OpCode::kIdentity);
  empty.input({0}, {});
  REQUIRE(empty.run().is_ok());
  CHECK(empty.output_shape() == std::vector<int64_t>{0});
}

TEST_CASE("unary infer rejects malformed nodes") {
  SUBCASE("integer input to a float op") {
    KernelRunner runner(OpCode::kRelu);
    runner.input_i32({2}, {1, 2}, false);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("missing alpha") {
    KernelRunner runner(OpCode::kLeakyRelu);
    runner.input({1}, {1.f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("Clip with one bound") {
    KernelRunner runner(OpCode::kClip);
    runner.input({1}, {1.f}).floats({0.f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("HardSigmoid with an extra float") {
    KernelRunner runner(OpCode::kHardSigmoid);
    runner.input({1}, {1.f}).floats({0.2f, 0.5f, 1.f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("attribute on an op that takes none") {
    KernelRunner runner(OpCode::kExp);
    runner.input({1}, {1.f}).ints({1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("Gelu approximate out of range") {
    KernelRunner runner(OpCode::kGelu);
    runner.input({1}, {1.f}).ints({2});
    Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("Gelu 'test'") != std::string::npos);
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kSigmoid);
    runner.input({1}, {1.f}).activation(ActivationKind::kRelu);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("two inputs") {
    KernelRunner runner(OpCode::kTanh);
    runner.input({1}, {1.f}).input({1}, {1.f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("two outputs") {
    KernelRunner runner(OpCode::kIdentity);
    runner.input({1}, {1.f}).num_outputs(2);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("Identity of an unknown dtype") {
    const float value = 1.f;
    KernelRunner runner(OpCode::kIdentity);
    runner.input_typed(static_cast<DType>(42), {1}, &value, sizeof value);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

TEST_CASE("unary ops on int8 and uint8: exactly dequantize, the float op, quantize (a table of bytes)") {
  struct Case {
    OpCode op;
    std::vector<float> floats;
    std::vector<int64_t> ints;
    DType dtype;
    float x_scale, y_scale;
    int64_t x_zp, y_zp;
  };
  const Case cases[] = {
      {OpCode::kSilu, {}, {}, DType::kInt8, 0.05f, 0.03f, -10, -100},
      {OpCode::kGelu, {}, {0}, DType::kInt8, 0.04f, 0.02f, 5, -90},
      {OpCode::kGelu, {}, {1}, DType::kUInt8, 0.04f, 0.02f, 128, 40},
      {OpCode::kSigmoid, {}, {}, DType::kInt8, 0.1f, 1.f / 256, 0, -128},
      {OpCode::kTanh, {}, {}, DType::kUInt8, 0.03f, 1.f / 128, 120, 128},
      {OpCode::kLeakyRelu, {0.2f}, {}, DType::kInt8, 0.02f, 0.02f, 3, 3},
      {OpCode::kLog, {}, {}, DType::kInt8, 0.01f, 0.05f, -128, 0},  // log(0) = -inf saturates, log(<0) NaN -> zero point
  };
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.op));
    const bool u8 = c.dtype == DType::kUInt8;
    std::vector<int32_t> q;
    for (int32_t v = u8 ? 0 : -128; v <= (u8 ? 255 : 127); ++v) q.push_back(v);  // every code
    std::vector<float> real;
    for (int32_t v : q) real.push_back(static_cast<float>(v - c.x_zp) * c.x_scale);
    KernelRunner reference(c.op);
    reference.input({static_cast<int64_t>(real.size())}, real).floats(c.floats).ints(c.ints);
    REQUIRE(reference.run().is_ok());
    const std::vector<float> y = reference.output_values();

    KernelRunner quantized(c.op);
    quantized.input_quantized(c.dtype, {16, 16}, q, {c.x_scale}, {c.x_zp})
        .floats(c.floats)
        .ints(c.ints)
        .output_quantization({c.y_scale}, {c.y_zp});
    Status status = quantized.run();
    REQUIRE_MESSAGE(status.is_ok(), status.message());
    REQUIRE(quantized.output().dtype == c.dtype);
    CHECK(quantized.output_shape() == std::vector<int64_t>{16, 16});
    std::vector<int32_t> got;
    if (u8) for (uint8_t v : quantized.output_as<uint8_t>()) got.push_back(v);
    else for (int8_t v : quantized.output_as<int8_t>()) got.push_back(v);
    const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
    int distinct = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      CAPTURE(i);
      double want = std::isnan(y[i]) ? static_cast<double>(c.y_zp)
                                      : std::nearbyint(static_cast<double>(y[i]) / c.y_scale) + c.y_zp;
      want = std::fmin(hi, std::fmax(lo, want));
      CHECK(got[i] == static_cast<int32_t>(want));
      distinct += i > 0 && got[i] != got[i - 1];
    }
    CHECK(distinct > 20);  // the scales spread the codes over the output range
  }
}

TEST_CASE("unary ops on int8: per-tensor quantization in and out, and an output scale to run") {
  const std::vector<int32_t> q = {1, 2, 3, 4, 5, 6};
  KernelRunner per_axis(OpCode::kSigmoid);
  per_axis.input_quantized(DType::kInt8, {2, 3}, q, {0.1f, 0.2f}, {0, 0}, 0).output_quantization({0.1f}, {0});
  Status status = per_axis.infer();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("per-tensor") != std::string::npos);
  KernelRunner no_output(OpCode::kTanh);
  no_output.input_quantized(DType::kInt8, {6}, q, {0.1f}, {0});
  status = no_output.run();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("no quantization") != std::string::npos);
}

}  // namespace
}  // namespace edgegen
