#include <doctest/doctest.h>

#include <algorithm>
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

// Exact comparison that treats NaN as equal to NaN (these ops are exact or
// correctly rounded on the values used here).
void check_same(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    if (std::isnan(expected[i])) CHECK(std::isnan(actual[i]));
    else CHECK(actual[i] == expected[i]);
  }
}

TEST_CASE("Add: equal shapes, scalar on either side") {
  KernelRunner same(OpCode::kAdd);
  same.input({2, 2}, {1, 2, 3, 4}).input({2, 2}, {10, 20, 30, 40});
  REQUIRE(same.run().is_ok());
  CHECK(same.output_shape() == std::vector<int64_t>{2, 2});
  CHECK(same.output_values() == std::vector<float>{11, 22, 33, 44});

  KernelRunner scalar_right(OpCode::kAdd);
  scalar_right.input({3}, {1, 2, 3}).input({}, {0.5f});
  REQUIRE(scalar_right.run().is_ok());
  CHECK(scalar_right.output_shape() == std::vector<int64_t>{3});
  CHECK(scalar_right.output_values() == std::vector<float>{1.5f, 2.5f, 3.5f});

  KernelRunner scalar_left(OpCode::kSub);
  scalar_left.input({1}, {10}).input({3}, {1, 2, 3});
  REQUIRE(scalar_left.run().is_ok());
  CHECK(scalar_left.output_values() == std::vector<float>{9, 8, 7});

  KernelRunner both_scalars(OpCode::kMul);
  both_scalars.input({}, {3}).input({}, {-2});
  REQUIRE(both_scalars.run().is_ok());
  CHECK(both_scalars.output_shape().empty());
  CHECK(both_scalars.output_values() == std::vector<float>{-6});
}

TEST_CASE("Add/Sub: NumPy broadcasting corners") {
  // a[:, None, :] + b, a = [[1,2,3],[4,5,6]], b = [[10],[20],[30],[40]]: [2,1,3] + [4,1] -> [2,4,3]
  KernelRunner both_sides(OpCode::kAdd);
  both_sides.input({2, 1, 3}, {1, 2, 3, 4, 5, 6}).input({4, 1}, {10, 20, 30, 40});
  REQUIRE(both_sides.run().is_ok());
  CHECK(both_sides.output_shape() == std::vector<int64_t>{2, 4, 3});
  CHECK(both_sides.output_values() == std::vector<float>{11, 12, 13, 21, 22, 23, 31, 32, 33, 41, 42, 43,
                                                         14, 15, 16, 24, 25, 26, 34, 35, 36, 44, 45, 46});

  // np.float32([3]) - [[1,2,3],[4,5,6]]: the lower-rank operand on the left.
  KernelRunner left_low_rank(OpCode::kSub);
  left_low_rank.input({1}, {3}).input({2, 3}, {1, 2, 3, 4, 5, 6});
  REQUIRE(left_low_rank.run().is_ok());
  CHECK(left_low_rank.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(left_low_rank.output_values() == std::vector<float>{2, 1, 0, -1, -2, -3});

  // A single-element operand of higher rank than the other: [3] + [1, 1] -> [1, 3].
  KernelRunner scalar_higher_rank(OpCode::kAdd);
  scalar_higher_rank.input({3}, {1, 2, 3}).input({1, 1}, {100});
  REQUIRE(scalar_higher_rank.run().is_ok());
  CHECK(scalar_higher_rank.output_shape() == std::vector<int64_t>{1, 3});
  CHECK(scalar_higher_rank.output_values() == std::vector<float>{101, 102, 103});

  // Broadcast along the last dim: [2, 3] + [2, 1].
  KernelRunner column(OpCode::kSub);
  column.input({2, 3}, {1, 2, 3, 4, 5, 6}).input({2, 1}, {1, 4});
  REQUIRE(column.run().is_ok());
  CHECK(column.output_values() == std::vector<float>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("Add: rank-8 broadcasting matches a naive index computation") {
  // [2,1,3,1,1,2,1,2] + [1,3,1,2,1,3,1] (rank 7, right-aligned) -> [2,1,3,1,2,2,3,2].
  // a[i] = i and b[j] = 1000 * j, so each output says which elements were added.
  const std::vector<int64_t> a_shape = {2, 1, 3, 1, 1, 2, 1, 2};
  const std::vector<int64_t> b_shape = {1, 3, 1, 2, 1, 3, 1};
  const std::vector<int64_t> b_aligned = {1, 1, 3, 1, 2, 1, 3, 1};
  const std::vector<int64_t> out_shape = {2, 1, 3, 1, 2, 2, 3, 2};
  std::vector<float> a(24), b(18);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  for (size_t j = 0; j < b.size(); ++j) b[j] = 1000.f * static_cast<float>(j);
  KernelRunner runner(OpCode::kAdd);
  runner.input(a_shape, a).input(b_shape, b);
  REQUIRE(runner.run().is_ok());
  REQUIRE(runner.output_shape() == out_shape);
  std::vector<float> out = runner.output_values();
  REQUIRE(out.size() == 144);
  for (size_t o = 0; o < out.size(); ++o) {
    size_t rest = o, ia = 0, ib = 0, stride_a = 1, stride_b = 1;
    for (int d = 7; d >= 0; --d) {
      size_t index = rest % static_cast<size_t>(out_shape[d]);
      rest /= static_cast<size_t>(out_shape[d]);
      if (a_shape[d] != 1) ia += index * stride_a;
      if (b_aligned[d] != 1) ib += index * stride_b;
      stride_a *= static_cast<size_t>(a_shape[d]);
      stride_b *= static_cast<size_t>(b_aligned[d]);
    }
    CAPTURE(o);
    CHECK(out[o] == static_cast<float>(ia) + 1000.f * static_cast<float>(ib));
  }
}

TEST_CASE("binary ops on empty tensors") {
  KernelRunner empty(OpCode::kAdd);
  empty.input({0, 3}, {}).input({3}, {1, 2, 3});
  REQUIRE(empty.run().is_ok());
  CHECK(empty.output_shape() == std::vector<int64_t>{0, 3});

  // A 0 broadcasts against 1 (never against anything else).
  KernelRunner zero_by_one(OpCode::kMul);
  zero_by_one.input({0, 1}, {}).input({1, 5}, {1, 2, 3, 4, 5});
  REQUIRE(zero_by_one.run().is_ok());
  CHECK(zero_by_one.output_shape() == std::vector<int64_t>{0, 5});
}

TEST_CASE("Div and Pow on f32 follow IEEE / np.power") {
  KernelRunner div(OpCode::kDiv);
  div.input({5}, {1.5f, -2.5f, 7.f, 1.f, -1.f}).input({5}, {2.f, 2.f, 2.f, 0.f, 0.f});
  REQUIRE(div.run().is_ok());
  check_same(div.output_values(), {0.75f, -1.25f, 3.5f, kInf, -kInf});

  // np.power(np.float32([2, 4, -8, 0, 0, 10]), np.float32([3, 0.5, 1/3, 0, -1, -2]))
  KernelRunner pow(OpCode::kPow);
  pow.input({6}, {2.f, 4.f, -8.f, 0.f, 0.f, 10.f}).input({6}, {3.f, 0.5f, 1.f / 3.f, 0.f, -1.f, -2.f});
  REQUIRE(pow.run().is_ok());
  std::vector<float> y = pow.output_values();
  check_same({y.begin(), y.begin() + 5}, {8.f, 2.f, kNaN, 1.f, kInf});
  CHECK(y[5] == doctest::Approx(0.01f).epsilon(1e-6));
}

TEST_CASE("Min and Max propagate NaN like np.minimum / np.maximum") {
  KernelRunner max(OpCode::kMax);
  max.input({4}, {1.f, kNaN, 3.f, -1.f}).input({4}, {2.f, 1.f, kNaN, -2.f});
  REQUIRE(max.run().is_ok());
  check_same(max.output_values(), {2.f, kNaN, kNaN, -1.f});

  KernelRunner min(OpCode::kMin);
  min.input({4}, {1.f, kNaN, 3.f, -1.f}).input({4}, {2.f, 1.f, kNaN, -2.f});
  REQUIRE(min.run().is_ok());
  check_same(min.output_values(), {1.f, kNaN, kNaN, -2.f});
}

TEST_CASE("integer ops: wraparound, C division, integer Pow") {
  constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();
  constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();

  KernelRunner add(OpCode::kAdd);
  add.input_i32({2}, {kMax32, -5}, false).input_i32({2}, {1, 3}, false);
  REQUIRE(add.run().is_ok());
  CHECK(add.output().dtype == DType::kInt32);
  CHECK(add.output_as<int32_t>() == std::vector<int32_t>{kMin32, -2});

  KernelRunner mul(OpCode::kMul);
  mul.input_i32({1}, {kMax32}).input_i32({1}, {2});
  REQUIRE(mul.run().is_ok());
  CHECK(mul.output_as<int32_t>() == std::vector<int32_t>{-2});

  // Truncates toward zero (not NumPy's floor); x / 0 -> 0 and MIN / -1 -> MIN instead of trapping.
  KernelRunner div(OpCode::kDiv);
  div.input_i32({7}, {7, -7, 7, -7, 5, 0, kMin32}).input_i32({7}, {2, 2, -2, -2, 0, 0, -1});
  REQUIRE(div.run().is_ok());
  CHECK(div.output_as<int32_t>() == std::vector<int32_t>{3, -3, -3, 3, 0, 0, kMin32});

  // ONNX test_pow_types_int64_int64: [1, 2, 3] ** [4, 5, 6]; then negative exponents.
  KernelRunner pow(OpCode::kPow);
  pow.input_i64({9}, {1, 2, 3, 2, 1, -1, -1, 0, 5})
      .input_i64({9}, {4, 5, 6, -1, -5, -3, -2, -1, 0});
  REQUIRE(pow.run().is_ok());
  CHECK(pow.output().dtype == DType::kInt64);
  CHECK(pow.output_as<int64_t>() == std::vector<int64_t>{1, 32, 729, 0, 1, -1, 1, 0, 1});

  KernelRunner big_pow(OpCode::kPow);
  big_pow.input_i64({2}, {3, -2}).input_i64({2}, {39, 63});
  REQUIRE(big_pow.run().is_ok());
  // 3**39 = 4052555153018976267 fits; (-2)**63 = INT64_MIN exactly.
  CHECK(big_pow.output_as<int64_t>() ==
        std::vector<int64_t>{4052555153018976267LL, std::numeric_limits<int64_t>::min()});

  // Broadcast with int64: [[1], [2]] - [10, 20, 30]; Min and Max.
  KernelRunner sub(OpCode::kSub);
  sub.input_i64({2, 1}, {1, 2}).input_i64({3}, {10, 20, 30});
  REQUIRE(sub.run().is_ok());
  CHECK(sub.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(sub.output_as<int64_t>() == std::vector<int64_t>{-9, -19, -29, -8, -18, -28});

  KernelRunner max(OpCode::kMax);
  max.input_i64({3}, {1, 5, -3}).input_i64({}, {2});
  REQUIRE(max.run().is_ok());
  CHECK(max.output_as<int64_t>() == std::vector<int64_t>{2, 5, 2});
  KernelRunner min(OpCode::kMin);
  min.input_i64({3}, {1, 5, -3}).input_i64({}, {2});
  REQUIRE(min.run().is_ok());
  CHECK(min.output_as<int64_t>() == std::vector<int64_t>{1, 2, -3});
}

TEST_CASE("fused activation applies after the op (f32)") {
  KernelRunner relu(OpCode::kAdd);
  relu.input({4}, {-3, -1, 1, 3}).input({}, {1}).activation(ActivationKind::kRelu);
  REQUIRE(relu.run().is_ok());
  CHECK(relu.output_values() == std::vector<float>{0, 0, 2, 4});

  KernelRunner clip(OpCode::kMul);
  clip.input({3}, {-3, 1, 3}).input({3}, {2, 2, 2}).activation(ActivationKind::kClip, -1.f, 5.f);
  REQUIRE(clip.run().is_ok());
  CHECK(clip.output_values() == std::vector<float>{-1, 2, 5});
}

TEST_CASE("binary infer rejects malformed nodes") {
  SUBCASE("shapes that do not broadcast") {
    KernelRunner runner(OpCode::kAdd);
    runner.input({2, 3}, std::vector<float>(6)).input({2}, {1, 2});
    Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("[2, 3]") != std::string::npos);
  }
  SUBCASE("zero does not broadcast against 2") {
    KernelRunner runner(OpCode::kMul);
    runner.input({0}, {}).input({2}, {1, 2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("mixed dtypes") {
    KernelRunner runner(OpCode::kAdd);
    runner.input({1}, {1.f}).input_i64({1}, {1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("unsupported dtype") {
    const uint8_t values[] = {1};
    KernelRunner runner(OpCode::kAdd);
    runner.input_typed(DType::kUInt8, {1}, values, 1).input_typed(DType::kUInt8, {1}, values, 1);
    CHECK(runner.infer().code() == StatusCode::kUnsupportedOp);
  }
  SUBCASE("fused activation on integers") {
    KernelRunner runner(OpCode::kAdd);
    runner.input_i32({1}, {1}).input_i32({1}, {1}).activation(ActivationKind::kRelu);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("unknown fused activation") {
    KernelRunner runner(OpCode::kAdd);
    runner.input({1}, {1}).input({1}, {1}).activation(static_cast<ActivationKind>(99));
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("one input") {
    KernelRunner runner(OpCode::kSub);
    runner.input({1}, {1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("absent second input") {
    KernelRunner runner(OpCode::kSub);
    runner.input({1}, {1}).absent_input();
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("an attribute") {
    KernelRunner runner(OpCode::kDiv);
    runner.input({1}, {1}).input({1}, {1}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

// Pseudo-random int8/uint8 values in [low, high] (a fixed LCG: reproducible).
std::vector<int32_t> quantized_values(size_t n, uint32_t seed, int32_t low, int32_t high) {
  std::vector<int32_t> values(n);
  uint32_t state = seed;
  for (int32_t& v : values) {
    state = state * 1664525u + 1013904223u;
    v = low + static_cast<int32_t>((state >> 8) % static_cast<uint32_t>(high - low + 1));
  }
  return values;
}

TEST_CASE("Add: int8 and uint8 operands within one step of the real sum, broadcast and fused clamps") {
  struct Case {
    std::vector<int64_t> a_shape, b_shape;
    DType dtype;
    ActivationKind act;
    float a_scale, b_scale, y_scale;
    int64_t a_zp, b_zp, y_zp;
  };
  const Case cases[] = {
      {{1, 4, 3, 5}, {1, 4, 3, 5}, DType::kInt8, ActivationKind::kNone, 0.05f, 0.03f, 0.06f, 3, -7, -2},  // residual
      {{2, 6, 2, 2}, {1, 6, 1, 1}, DType::kInt8, ActivationKind::kNone, 0.02f, 0.1f, 0.09f, -10, 0, 5},  // embedding
      {{1, 6, 1, 1}, {2, 6, 3, 1}, DType::kInt8, ActivationKind::kRelu, 0.1f, 0.02f, 0.05f, 1, 2, -128},  // swapped
      {{3, 5}, {}, DType::kInt8, ActivationKind::kClip, 0.04f, 0.5f, 0.01f, 0, 0, 0},  // scalar, Clip(-0.5, 0.75)
      {{2, 3, 4}, {2, 3, 4}, DType::kUInt8, ActivationKind::kNone, 0.04f, 0.01f, 0.03f, 128, 40, 120},
      {{1, 8}, {1, 8}, DType::kInt8, ActivationKind::kNone, 1.0f, 0.001f, 0.0001f, 0, 0, 0},  // saturates
  };
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.act));
    const bool u8 = c.dtype == DType::kUInt8;
    const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
    auto count = [](const std::vector<int64_t>& shape) {
      size_t n = 1;
      for (int64_t d : shape) n *= static_cast<size_t>(d);
      return n;
    };
    const std::vector<int32_t> a = quantized_values(count(c.a_shape), 11u, lo, hi);
    const std::vector<int32_t> b = quantized_values(count(c.b_shape), 29u, lo, hi);
    // The real sum, broadcast by the float kernel.
    std::vector<float> a_real, b_real;
    for (int32_t v : a) a_real.push_back(c.a_scale * static_cast<float>(v - c.a_zp));
    for (int32_t v : b) b_real.push_back(c.b_scale * static_cast<float>(v - c.b_zp));
    KernelRunner real(OpCode::kAdd);
    real.input(c.a_shape, a_real).input(c.b_shape, b_real);
    REQUIRE(real.run().is_ok());

    KernelRunner quantized(OpCode::kAdd);
    quantized.input_quantized(c.dtype, c.a_shape, a, {c.a_scale}, {c.a_zp})
        .input_quantized(c.dtype, c.b_shape, b, {c.b_scale}, {c.b_zp})
        .activation(c.act, -0.5f, 0.75f)
        .output_quantization({c.y_scale}, {c.y_zp});
    Status status = quantized.run();
    REQUIRE_MESSAGE(status.is_ok(), status.message());
    REQUIRE(quantized.output().dtype == c.dtype);
    REQUIRE(quantized.output_shape() == real.output_shape());
    std::vector<int32_t> got;
    if (u8) for (uint8_t v : quantized.output_as<uint8_t>()) got.push_back(v);
    else for (int8_t v : quantized.output_as<int8_t>()) got.push_back(v);
    const std::vector<float> y = real.output_values();
    float low = -INFINITY, high = INFINITY;
    if (c.act == ActivationKind::kRelu) low = 0.f;
    if (c.act == ActivationKind::kClip) low = -0.5f, high = 0.75f;
    int worst = 0, saturated = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      const float v = std::fmin(high, std::fmax(low, y[i]));
      const double exact = std::nearbyint(static_cast<double>(v) / c.y_scale) + static_cast<double>(c.y_zp);
      const int32_t want = static_cast<int32_t>(std::fmin(hi, std::fmax(lo, exact)));
      worst = std::max(worst, std::abs(got[i] - want));
      saturated += got[i] == lo || got[i] == hi;
    }
    CHECK(worst <= 1);
    if (c.y_scale < 0.001f) CHECK(saturated > 0);
  }
}

TEST_CASE("Add: quantized operands must be quantized per tensor, of one dtype, into a sum that fits") {
  const std::vector<int32_t> q = {1, 2, 3, 4, 5, 6};
  KernelRunner per_axis(OpCode::kAdd);
  per_axis.input_quantized(DType::kInt8, {1, 2, 3}, q, {0.1f, 0.2f}, {0, 0}, 1)
      .input_quantized(DType::kInt8, {1, 2, 3}, q, {0.1f}, {0})
      .output_quantization({0.1f}, {0});
  Status status = per_axis.infer();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("per-tensor") != std::string::npos);

  KernelRunner mixed(OpCode::kAdd);
  mixed.input_quantized(DType::kInt8, {6}, q, {0.1f}, {0}).input_quantized(DType::kUInt8, {6}, q, {0.1f}, {0});
  CHECK_FALSE(mixed.infer().is_ok());

  KernelRunner tiny_output(OpCode::kAdd);
  tiny_output.input_quantized(DType::kInt8, {6}, q, {1.f}, {0})
      .input_quantized(DType::kInt8, {6}, q, {1.f}, {0})
      .output_quantization({1e-6f}, {0});
  status = tiny_output.infer();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("no int8 sum fits") != std::string::npos);

  KernelRunner leaky(OpCode::kAdd);
  leaky.input_quantized(DType::kInt8, {6}, q, {0.1f}, {0})
      .input_quantized(DType::kInt8, {6}, q, {0.1f}, {0})
      .activation(ActivationKind::kLeakyRelu, 0.2f)
      .output_quantization({0.1f}, {0});
  CHECK_FALSE(leaky.infer().is_ok());

  KernelRunner no_output(OpCode::kAdd);
  no_output.input_quantized(DType::kInt8, {6}, q, {0.1f}, {0}).input_quantized(DType::kInt8, {6}, q, {0.1f}, {0});
  status = no_output.run();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("no quantization") != std::string::npos);
}

}  // namespace
}  // namespace edgegen
