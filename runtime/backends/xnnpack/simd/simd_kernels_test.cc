// The vectorized elementary functions against libm (in double), over the
// whole float range and its special values: what the XNNPACK backend's
// unary ops promise (core/vector_math.h).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backends/xnnpack/simd/simd_kernels.h"
#include "ops/op_params.h"
#include "ops/registry.h"

using namespace edgegen;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Every power of two of the float range (subnormals included) times a few
// mantissas, both signs, plus zeros, infinities and NaN.
std::vector<float> sweep() {
  std::vector<float> values = {0.f, -0.f, kInf, -kInf, kNaN, 1e-45f, -1e-45f};
  for (int e = -149; e <= 127; ++e)
    for (float m : {1.f, 1.1f, 1.37f, 1.5f, 1.77f, 1.999f}) {
      const float v = std::ldexp(m, e);
      if (std::isfinite(v)) values.push_back(v), values.push_back(-v);
    }
  // Dense where the functions bend.
  for (int i = -4000; i <= 4000; ++i) values.push_back(static_cast<float>(i) * 0.005f);
  return values;
}

std::vector<float> run(OpCode code, const std::vector<float>& in, const std::vector<float>& floats = {},
                       const std::vector<int64_t>& ints = {}) {
  OpAttributes attributes;
  attributes.floats = floats.data();
  attributes.num_floats = floats.size();
  attributes.ints = ints.data();
  attributes.num_ints = ints.size();
  REQUIRE(simd::has_unary(static_cast<uint32_t>(code)));
  std::vector<float> out(in.size(), -12345.f);
  simd::unary(static_cast<uint32_t>(code), attributes, in.data(), out.data(), in.size());
  // In place gives the same.
  std::vector<float> in_place = in;
  simd::unary(static_cast<uint32_t>(code), attributes, in_place.data(), in_place.data(), in_place.size());
  for (size_t i = 0; i < in.size(); ++i)
    if (!(std::isnan(out[i]) && std::isnan(in_place[i]))) REQUIRE(out[i] == in_place[i]);
  return out;
}

// got within abs + rel * |want|; NaN where want is NaN; infinities exact.
template <typename Want>
void check_close(const char* name, const std::vector<float>& in, const std::vector<float>& got, Want want_of,
                 double abs, double rel) {
  double worst = 0.;
  float worst_at = 0.f;
  for (size_t i = 0; i < in.size(); ++i) {
    const double want = want_of(static_cast<double>(in[i]));
    CAPTURE(name);
    CAPTURE(in[i]);
    CAPTURE(got[i]);
    CAPTURE(want);
    if (std::isnan(want)) {
      CHECK(std::isnan(got[i]));
      continue;
    }
    if (std::isinf(static_cast<float>(want))) {
      CHECK(static_cast<double>(got[i]) == static_cast<double>(static_cast<float>(want)));
      continue;
    }
    const double error = std::fabs(static_cast<double>(got[i]) - want);
    const double allowed = abs + rel * std::fabs(want);
    if (error / allowed > worst) worst = error / allowed, worst_at = in[i];
    CHECK(error <= allowed);
  }
  MESSAGE(std::string(name) << ": worst error " << worst << " of the allowed, at x = " << worst_at);
}

}  // namespace

TEST_CASE("vectorized sigmoid and SiLU match libm over the float range (SiLU: AVX-512 where the CPU has it)") {
  const std::vector<float> x = sweep();
  // x * sigmoid(x), whose limit at -inf is 0 (-inf / inf is NaN in double);
  // below -88 it is under 1e-36 and comes out as -0.
  check_close("silu", x, run(OpCode::kSilu, x),
              [](double v) { return std::isinf(v) ? (v > 0 ? v : 0.0) : v / (1.0 + std::exp(-v)); }, 1e-36, 4e-7);
  check_close("sigmoid", x, run(OpCode::kSigmoid, x), [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, 1e-37,
              4e-7);
}

TEST_CASE("vectorized log, softplus, expm1 (Elu), erf and GELU match libm over the float range") {
  const std::vector<float> x = sweep();
  check_close("log", x, run(OpCode::kLog, x), [](double v) { return std::log(v); }, 1e-30, 3e-7);
  check_close("softplus", x, run(OpCode::kSoftplus, x),
              [](double v) { return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); }, 1e-37, 1e-6);
  check_close("elu", x, run(OpCode::kElu, x, {0.7f}),
              [](double v) { return v < 0 ? 0.7 * std::expm1(v) : v; }, 1e-30, 1e-6);
  check_close("erf", x, run(OpCode::kErf, x), [](double v) { return std::erf(v); }, 3e-7, 1e-6);
  check_close("gelu", x, run(OpCode::kGelu, x, {}, {0}),
              [](double v) { return 0.5 * v * (1. + std::erf(v / std::sqrt(2.))); }, 3e-7, 1e-6);
}

TEST_CASE("vectorized sin and cos: 1e-6 near the origin, libm's values past the reduction's range") {
  std::vector<float> x = sweep();
  for (float v : {8191.9f, 8192.f, 8192.5f, 1e5f, -3e7f, 1e30f}) x.push_back(v);
  const std::vector<float> sines = run(OpCode::kSin, x), cosines = run(OpCode::kCos, x);
  for (size_t i = 0; i < x.size(); ++i) {
    CAPTURE(x[i]);
    const double s = std::sin(static_cast<double>(x[i])), c = std::cos(static_cast<double>(x[i]));
    if (!std::isfinite(x[i])) {
      CHECK(std::isnan(sines[i]));
      CHECK(std::isnan(cosines[i]));
      continue;
    }
    const float magnitude = std::fabs(x[i]);
    if (magnitude > 8192.f) {  // libm's own float results
      CHECK(sines[i] == std::sin(x[i]));
      CHECK(cosines[i] == std::cos(x[i]));
      continue;
    }
    // Cody-Waite reduction: the error grows with |x| (about |x| * 2^-24 * 2^-22).
    const double allowed = 1e-6 + 2e-7 * std::fabs(s) + 1e-10 * magnitude;
    CHECK(std::fabs(sines[i] - s) <= allowed);
    CHECK(std::fabs(cosines[i] - c) <= 1e-6 + 2e-7 * std::fabs(c) + 1e-10 * magnitude);
    if (magnitude < 1e-3f) CHECK(std::fabs(sines[i] - s) <= 2e-7 * std::fabs(s) + 1e-45);  // odd: relative at 0
  }
}

TEST_CASE("vectorized floor and ceil are exact; hard sigmoid within the rounding of a fused multiply-add") {
  const std::vector<float> x = sweep();
  const std::vector<float> floors = run(OpCode::kFloor, x), ceils = run(OpCode::kCeil, x);
  const std::vector<float> hard = run(OpCode::kHardSigmoid, x, {0.2f, 0.5f});
  int wrong_floor = 0, wrong_ceil = 0, wrong_hard = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) continue;
    wrong_floor += floors[i] != std::floor(x[i]);
    wrong_ceil += ceils[i] != std::ceil(x[i]);
    const float want = std::fmin(1.f, std::fmax(0.f, 0.2f * x[i] + 0.5f));
    wrong_hard += !(std::fabs(hard[i] - want) <= 6e-8f);
  }
  CHECK(wrong_floor == 0);
  CHECK(wrong_ceil == 0);
  CHECK(wrong_hard == 0);
}

TEST_CASE("softmax rows, scaled first: within 2e-6 of double, in place the same, rows of 1 to 100 values") {
  // The AVX-512 rows where the CPU has it, and the portable loop.
  for (auto softmax_rows : {simd::softmax_rows, simd::softmax_rows_portable})
  for (size_t cols : {size_t{1}, size_t{7}, size_t{16}, size_t{33}, size_t{100}}) {
    for (float scale : {1.f, 0.125f, -0.5f}) {
      CAPTURE(cols);
      CAPTURE(scale);
      const size_t rows = 3;
      std::vector<float> in(rows * cols);
      for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>((i * 37) % 101) * 0.3f - 15.f;
      in[cols / 2] = 80.f;  // past exp's range unless the max is taken out
      std::vector<float> out(in.size(), -1.f);
      softmax_rows(in.data(), out.data(), rows, cols, scale);
      std::vector<float> in_place = in;
      softmax_rows(in_place.data(), in_place.data(), rows, cols, scale);
      for (size_t r = 0; r < rows; ++r) {
        double top = -INFINITY, sum = 0.;
        for (size_t c = 0; c < cols; ++c) top = std::fmax(top, static_cast<double>(scale * in[r * cols + c]));
        for (size_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(scale * in[r * cols + c]) - top);
        for (size_t c = 0; c < cols; ++c) {
          const double want = std::exp(static_cast<double>(scale * in[r * cols + c]) - top) / sum;
          CHECK(std::fabs(out[r * cols + c] - want) <= 2e-6 * want + 1e-30);
          CHECK(out[r * cols + c] == in_place[r * cols + c]);
        }
      }
    }
  }
}
