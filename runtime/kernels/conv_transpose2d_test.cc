// ConvTranspose2d reference kernel. Weight [C, O/groups, kH, kW]; ints: {stride_h,
// stride_w, dilation_h, dilation_w, pad_top, pad_left, pad_bottom, pad_right,
// groups, output_padding_h, output_padding_w}.
#include <doctest/doctest.h>

#include <cmath>
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

std::vector<float> iota(size_t count) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = static_cast<float>(i);
  return values;
}

// `plane` repeated `times` times: the ONNX cases below use identical weights
// for both output channels.
std::vector<float> repeat(const std::vector<float>& plane, int times) {
  std::vector<float> values;
  for (int i = 0; i < times; ++i) values.insert(values.end(), plane.begin(), plane.end());
  return values;
}

const std::vector<float> kOnes2x3x3(18, 1.f);

// ONNX backend test data (test_convtranspose*): x = arange(9).reshape(1, 1, 3, 3), W = ones((1, 2, 3, 3)).
TEST_CASE("ConvTranspose2d: ONNX test_convtranspose") {
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 1, 3, 3}, iota(9)).input({1, 2, 3, 3}, kOnes2x3x3, true).ints({1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 5, 5});
  check_values(runner.output_values(), repeat({0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36,  //
                                               27, 15, 9, 20, 33, 24, 13, 6, 13, 21, 15, 8},
                                              2));
}

TEST_CASE("ConvTranspose2d: ONNX test_convtranspose_1d") {
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 1, 3}, iota(3)).input({1, 2, 3}, std::vector<float>(6, 1.f), true);
  runner.ints({1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 5});
  check_values(runner.output_values(), {0, 1, 3, 3, 2, 0, 1, 3, 3, 2});
}

TEST_CASE("ConvTranspose2d: ONNX test_convtranspose_dilations") {
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 1, 3, 3}, {3, 8, 1, 9, 5, 7, 3, 2, 6}).input({1, 1, 2, 2}, {7, 2, 1, 9}, true);
  runner.ints({1, 1, 2, 2, 0, 0, 0, 0, 1, 0, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 5, 5});
  check_values(runner.output_values(), {21, 56, 13, 16, 2, 63, 35, 67, 10, 14, 24, 22, 76,
                                        76, 21, 9, 5, 88, 45, 63, 3, 2, 33, 18, 54});
}

TEST_CASE("ConvTranspose2d: ONNX test_convtranspose_pads") {
  // strides [3, 2], pads [1, 2, 1, 2]: H = 2 * 3 + 3 - 2 = 7, W = 2 * 2 + 3 - 4 = 3.
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 1, 3, 3}, iota(9)).input({1, 2, 3, 3}, kOnes2x3x3, true).ints({3, 2, 1, 1, 1, 2, 1, 2, 1, 0, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 7, 3});
  check_values(runner.output_values(),
               repeat({1, 1, 3, 1, 1, 3, 7, 4, 9, 7, 4, 9, 7, 4, 9, 13, 7, 15, 13, 7, 15}, 2));
}

TEST_CASE("ConvTranspose2d: ONNX test_convtranspose_pad (output_padding)") {
  // strides [3, 2], output_padding [1, 1]: the last row and column only get output padding (zeros).
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 1, 3, 3}, iota(9)).input({1, 2, 3, 3}, kOnes2x3x3, true).ints({3, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 10, 8});
  check_values(runner.output_values(), repeat({0, 0, 1, 1, 3,  2, 2, 0, 0, 0, 1, 1, 3,  2, 2, 0,  //
                                               0, 0, 1, 1, 3,  2, 2, 0, 3, 3, 7, 4, 9,  5, 5, 0,  //
                                               3, 3, 7, 4, 9,  5, 5, 0, 3, 3, 7, 4, 9,  5, 5, 0,  //
                                               6, 6, 13, 7, 15, 8, 8, 0, 6, 6, 13, 7, 15, 8, 8, 0,  //
                                               6, 6, 13, 7, 15, 8, 8, 0, 0, 0, 0, 0, 0,  0, 0, 0},
                                              2));
}

TEST_CASE("ConvTranspose2d: ONNX test_convtranspose_autopad_same (SAME_UPPER as explicit pads)") {
  // strides 2, output 6 = 3 * 2: total padding 1, all of it at the end.
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 1, 3, 3}, iota(9)).input({1, 2, 3, 3}, kOnes2x3x3, true).ints({2, 2, 1, 1, 0, 0, 1, 1, 1, 0, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 6, 6});
  check_values(runner.output_values(), repeat({0, 0, 1, 1, 3,  2,  0, 0, 1, 1, 3,  2,  3, 3, 8, 5, 12, 7,  //
                                               3, 3, 7, 4, 9,  5,  9, 9, 20, 11, 24, 13, 6, 6, 13, 7, 15, 8},
                                              2));
}

TEST_CASE("ConvTranspose2d: two groups, stride 2, bias") {
  // x = arange(8).reshape(1, 2, 2, 2); group 0 scatters [[1, 2], [3, 4]], group 1 [[1, 0], [0, -1]];
  // stride 2 tiles the 2x2 copies without overlap. Hand-check: y[0, 0, 3, 3] = 3 * 4 + 0.5.
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 2, 2, 2}, iota(8))
      .input({2, 1, 2, 2}, {1, 2, 3, 4, 1, 0, 0, -1}, true)
      .input({2}, {0.5f, -0.5f}, true)
      .ints({2, 2, 1, 1, 0, 0, 0, 0, 2, 0, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 4, 4});
  check_values(runner.output_values(), {0.5f, 0.5f, 1.5f, 2.5f, 0.5f, 0.5f, 3.5f, 4.5f,     //
                                        2.5f, 4.5f, 3.5f, 6.5f, 6.5f, 8.5f, 9.5f, 12.5f,     //
                                        3.5f, -0.5f, 4.5f, -0.5f, -0.5f, -4.5f, -0.5f, -5.5f,  //
                                        5.5f, -0.5f, 6.5f, -0.5f, -0.5f, -6.5f, -0.5f, -7.5f});
}

TEST_CASE("ConvTranspose2d: 1-D with stride 3, left pad, output_padding and fused Relu") {
  // L = (3 - 1) * 3 - 1 + (2 - 1) + 1 + 1 = 8. Before Relu the channels are
  // {0.5, 0, -2, -1, 0, 3, 1.5, 0} and {2, 0, 2, -4, 0, -3, 6, 0}.
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 1, 3}, {1, -2, 3}).input({1, 2, 2}, {1, 0.5f, -1, 2}, true);
  runner.ints({1, 3, 1, 1, 0, 1, 0, 0, 1, 0, 1}).activation(ActivationKind::kRelu);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 8});
  check_values(runner.output_values(), {0.5f, 0, 0, 0, 0, 3, 1.5f, 0, 2, 0, 2, 0, 0, 0, 6, 0});
}

TEST_CASE("ConvTranspose2d: one element") {
  KernelRunner runner(OpCode::kConvTranspose2d);
  runner.input({1, 1, 1, 1}, {3}).input({1, 1, 1, 1}, {-2}, true).input({1}, {1}, true);
  runner.ints({1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 1, 1});
  check_values(runner.output_values(), {-5});
}

// Naive gather form of the ONNX definition: output (oh, ow) receives input
// (ih, iw) through tap (kh, kw) when oh + pad_top = ih * stride + kh * dilation.
std::vector<float> naive_conv_transpose(const std::vector<float>& x, const Dims& xs, const std::vector<float>& w,
                                        const Dims& ws, const std::vector<float>& bias,
                                        const std::vector<int64_t>& p, Dims* out_shape) {
  const int64_t n_ = xs[0], c_ = xs[1], h_ = xs[2], w_ = xs[3], kh_ = ws[2], kw_ = ws[3];
  const int64_t groups = p[8], cg = c_ / groups, og = ws[1], o_ = og * groups;
  const int64_t oh_ = (h_ - 1) * p[0] - p[4] - p[6] + p[2] * (kh_ - 1) + p[9] + 1;
  const int64_t ow_ = (w_ - 1) * p[1] - p[5] - p[7] + p[3] * (kw_ - 1) + p[10] + 1;
  *out_shape = {n_, o_, oh_, ow_};
  std::vector<float> y;
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t o = 0; o < o_; ++o)
      for (int64_t oh = 0; oh < oh_; ++oh)
        for (int64_t ow = 0; ow < ow_; ++ow) {
          double sum = bias.empty() ? 0.0 : bias[o];
          const int64_t g = o / og;
          for (int64_t c = g * cg; c < (g + 1) * cg; ++c)
            for (int64_t kh = 0; kh < kh_; ++kh)
              for (int64_t kw = 0; kw < kw_; ++kw) {
                const int64_t th = oh + p[4] - kh * p[2], tw = ow + p[5] - kw * p[3];
                if (th < 0 || tw < 0 || th % p[0] != 0 || tw % p[1] != 0) continue;
                const int64_t ih = th / p[0], iw = tw / p[1];
                if (ih >= h_ || iw >= w_) continue;
                sum += static_cast<double>(x[((n * c_ + c) * h_ + ih) * w_ + iw]) *
                       w[((c * og + o % og) * kh_ + kh) * kw_ + kw];
              }
          y.push_back(static_cast<float>(sum));
        }
  return y;
}

std::vector<float> wave(size_t count, float phase) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = std::sin(0.7f * static_cast<float>(i) + phase);
  return values;
}

TEST_CASE("ConvTranspose2d: odd geometries match a naive gather formulation") {
  struct Case {
    Dims x, w;
    std::vector<int64_t> ints;
  };
  const Case cases[] = {
      {{2, 3, 3, 5}, {3, 2, 2, 3}, {2, 1, 1, 2, 0, 1, 1, 0, 1, 1, 0}},
      {{1, 4, 4, 3}, {4, 1, 3, 3}, {3, 2, 1, 1, 1, 1, 2, 0, 2, 2, 1}},
      {{1, 3, 2, 2}, {3, 1, 2, 2}, {2, 2, 3, 3, 0, 0, 0, 0, 3, 2, 1}},
      {{1, 2, 5, 2}, {2, 3, 1, 4}, {1, 3, 1, 1, 0, 4, 0, 3, 1, 0, 2}},
  };
  for (const Case& c : cases) {
    const size_t x_count = static_cast<size_t>(c.x[0] * c.x[1] * c.x[2] * c.x[3]);
    const size_t w_count = static_cast<size_t>(c.w[0] * c.w[1] * c.w[2] * c.w[3]);
    const int64_t out_channels = c.w[1] * c.ints[8];
    const std::vector<float> x = wave(x_count, 0.3f), w = wave(w_count, 1.1f), bias = wave(out_channels, 2.f);
    Dims expected_shape;
    const std::vector<float> expected = naive_conv_transpose(x, c.x, w, c.w, bias, c.ints, &expected_shape);
    KernelRunner runner(OpCode::kConvTranspose2d);
    runner.input(c.x, x).input(c.w, w, true).input({out_channels}, bias, true).ints(c.ints);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == expected_shape);
    check_values(runner.output_values(), expected, 1e-5);
  }
}

TEST_CASE("ConvTranspose2d: empty tensors") {
  SUBCASE("zero batch") {
    KernelRunner runner(OpCode::kConvTranspose2d);
    runner.input({0, 1, 3, 3}, {}).input({1, 2, 3, 3}, kOnes2x3x3, true).ints({1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{0, 2, 5, 5});
  }
  SUBCASE("zero input channels: the output is the bias") {
    KernelRunner runner(OpCode::kConvTranspose2d);
    runner.input({1, 0, 1, 1}, {}).input({0, 2, 2, 1}, {}, true).input({2}, {1, -1}, true);
    runner.ints({1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{1, 2, 2, 1});
    check_values(runner.output_values(), {1, 1, -1, -1});
  }
  SUBCASE("padding crops the whole output") {
    KernelRunner runner(OpCode::kConvTranspose2d);
    runner.input({1, 1, 1, 2}, {1, 2}).input({1, 1, 1, 1}, {1}, true).ints({1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{1, 1, 1, 0});
  }
}

TEST_CASE("ConvTranspose2d: infer rejects malformed nodes") {
  auto deconv = [](Dims w_shape, std::vector<int64_t> ints) {
    KernelRunner runner(OpCode::kConvTranspose2d);
    size_t count = 1;
    for (int64_t d : w_shape) count *= static_cast<size_t>(d);
    runner.input({1, 2, 3, 3}, iota(18)).input(w_shape, std::vector<float>(count, 1.f), true).ints(ints);
    return runner;
  };
  const std::vector<int64_t> plain = {1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0};
  SUBCASE("a valid node passes") { CHECK(deconv({2, 1, 2, 2}, plain).infer().is_ok()); }
  SUBCASE("conv-sized int list") { CHECK_FALSE(deconv({2, 1, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 0, 1}).infer().is_ok()); }
  SUBCASE("zero stride") { CHECK_FALSE(deconv({2, 1, 2, 2}, {1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0}).infer().is_ok()); }
  SUBCASE("negative output padding") {
    CHECK_FALSE(deconv({2, 1, 2, 2}, {2, 2, 1, 1, 0, 0, 0, 0, 1, -1, 0}).infer().is_ok());
  }
  SUBCASE("output padding not below the stride or dilation") {
    Status status = deconv({2, 1, 2, 2}, {2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 2}).infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("ConvTranspose2d 'test': output_padding_w") != std::string::npos);
  }
  SUBCASE("output padding below the dilation is allowed") {
    CHECK(deconv({2, 1, 2, 2}, {1, 1, 3, 3, 0, 0, 0, 0, 1, 2, 2}).infer().is_ok());
  }
  SUBCASE("groups do not divide the input channels") {
    CHECK_FALSE(deconv({2, 1, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 0, 3, 0, 0}).infer().is_ok());
  }
  SUBCASE("weight's first dim is not the input channels") { CHECK_FALSE(deconv({1, 2, 2, 2}, plain).infer().is_ok()); }
  SUBCASE("empty kernel") { CHECK_FALSE(deconv({2, 1, 0, 2}, plain).infer().is_ok()); }
  SUBCASE("padding larger than the output") {
    CHECK_FALSE(deconv({2, 1, 2, 2}, {1, 1, 1, 1, 3, 0, 2, 0, 1, 0, 0}).infer().is_ok());
  }
  SUBCASE("bias of the wrong length") {
    KernelRunner runner = deconv({2, 1, 2, 2}, plain);
    runner.input({2}, {1, 2}, true);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("1-D with vertical output padding") {
    KernelRunner runner(OpCode::kConvTranspose2d);
    runner.input({1, 1, 3}, iota(3)).input({1, 1, 2}, {1, 1}, true).ints({1, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("int64 input") {
    const int64_t values[9] = {};
    KernelRunner runner(OpCode::kConvTranspose2d);
    runner.input_typed(DType::kInt64, {1, 1, 3, 3}, values, sizeof values).input({1, 1, 1, 1}, {1}, true).ints(plain);
    CHECK_FALSE(runner.infer().is_ok());
  }
}

}  // namespace
}  // namespace edgegen
