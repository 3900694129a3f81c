// Conv2d reference kernel. ints: {stride_h, stride_w, dilation_h, dilation_w,
// pad_top, pad_left, pad_bottom, pad_right, groups}.
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

const std::vector<float> kOnes3x3(9, 1.f);

// ONNX backend test data (onnx/backend/test/data/node/test_conv_*): x = arange(35).reshape(1, 1, 7, 5),
// W = ones((1, 1, 3, 3)), strides 2.
TEST_CASE("Conv2d: ONNX test_conv_with_strides_padding") {
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 1, 7, 5}, iota(35)).input({1, 1, 3, 3}, kOnes3x3, true).ints({2, 2, 1, 1, 1, 1, 1, 1, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 4, 3});
  check_values(runner.output_values(), {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124});
}

TEST_CASE("Conv2d: ONNX test_conv_with_strides_no_padding") {
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 1, 7, 5}, iota(35)).input({1, 1, 3, 3}, kOnes3x3, true).ints({2, 2, 1, 1, 0, 0, 0, 0, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 3, 2});
  check_values(runner.output_values(), {54, 72, 144, 162, 234, 252});
}

TEST_CASE("Conv2d: ONNX test_conv_with_strides_and_asymmetric_padding") {
  // pads [1, 0, 1, 0]: top and bottom only.
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 1, 7, 5}, iota(35)).input({1, 1, 3, 3}, kOnes3x3, true).ints({2, 2, 1, 1, 1, 0, 1, 0, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 4, 2});
  check_values(runner.output_values(), {21, 33, 99, 117, 189, 207, 171, 183});
}

TEST_CASE("Conv2d: ONNX test_conv_with_autopad_same (SAME_LOWER as explicit pads)") {
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 1, 5, 5}, iota(25)).input({1, 1, 3, 3}, kOnes3x3, true).ints({2, 2, 1, 1, 1, 1, 1, 1, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 3, 3});
  check_values(runner.output_values(), {12, 27, 24, 63, 108, 81, 72, 117, 84});
}

TEST_CASE("Conv2d: two input and output channels with bias") {
  // x = arange(18).reshape(1, 2, 3, 3); y = conv2d(x, w) + b, hand-checked:
  // y[0, 0, 0, 0] = (0 - 4) + 0.5 * (9 + 10 + 12 + 13) + 0.5 = 18.5.
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 2, 3, 3}, iota(18))
      .input({2, 2, 2, 2}, {1, 0, 0, -1, 0.5f, 0.5f, 0.5f, 0.5f,  //
                            -1, -1, -1, -1, 0, 2, 0, 0},
             true)
      .input({2}, {0.5f, -1}, true)
      .ints({1, 1, 1, 1, 0, 0, 0, 0, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 2, 2});
  check_values(runner.output_values(), {18.5f, 20.5f, 24.5f, 26.5f, 11, 9, 5, 3});
}

TEST_CASE("Conv2d: depthwise 3x3 with same padding") {
  // groups = channels = 2; channel 0 gets a Laplacian, channel 1 a box sum.
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 2, 3, 3}, iota(18))
      .input({2, 1, 3, 3}, {0, 1, 0, 1, -4, 1, 0, 1, 0,  //
                            1, 1, 1, 1, 1, 1, 1, 1, 1},
             true)
      .ints({1, 1, 1, 1, 1, 1, 1, 1, 2});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 2, 3, 3});
  check_values(runner.output_values(),
               {4, 2, -2, -2, 0, -6, -14, -10, -20, 44, 69, 48, 75, 117, 81, 56, 87, 60});
}

TEST_CASE("Conv2d: two groups of two channels, 1x1 kernel") {
  // x = arange(16).reshape(1, 4, 2, 2): out 0 = x0 - x1, out 1 = 0.5 x2 + 2 x3 + 10.
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 4, 2, 2}, iota(16))
      .input({2, 2, 1, 1}, {1, -1, 0.5f, 2}, true)
      .input({2}, {0, 10}, true)
      .ints({1, 1, 1, 1, 0, 0, 0, 0, 2});
  REQUIRE(runner.run().is_ok());
  check_values(runner.output_values(), {-4, -4, -4, -4, 38, 40.5f, 43, 45.5f});
}

TEST_CASE("Conv2d: dilation 2") {
  // x = arange(25).reshape(1, 1, 5, 5), w = [[1, 2], [3, 4]]: y[0, 0] = 0 + 2*2 + 3*10 + 4*12 = 82.
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 1, 5, 5}, iota(25)).input({1, 1, 2, 2}, {1, 2, 3, 4}, true).ints({1, 1, 2, 2, 0, 0, 0, 0, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 3, 3});
  check_values(runner.output_values(), {82, 92, 102, 132, 142, 152, 182, 192, 202});
}

TEST_CASE("Conv2d: 1-D input with stride 2 and asymmetric padding") {
  // L = 6, k = 3, pads 1 / 2: L_out = (6 + 3 - 3) / 2 + 1 = 4.
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 2, 6}, {1, 2, 3, 4, 5, 6, -1, 0, 1, 0, -1, 0})
      .input({1, 2, 3}, {1, 0, -1, 2, 1, 0.5f}, true)
      .input({1}, {0.25f}, true)
      .ints({1, 2, 1, 1, 0, 1, 0, 2, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 4});
  check_values(runner.output_values(), {-2.75f, -0.75f, -2.75f, 6.25f});
}

TEST_CASE("Conv2d: fused activations") {
  // The 1-D case above: raw outputs {-2.75, -0.75, -2.75, 6.25}.
  auto run = [](ActivationKind kind, float p0, float p1) {
    KernelRunner runner(OpCode::kConv2d);
    runner.input({1, 2, 6}, {1, 2, 3, 4, 5, 6, -1, 0, 1, 0, -1, 0})
        .input({1, 2, 3}, {1, 0, -1, 2, 1, 0.5f}, true)
        .input({1}, {0.25f}, true)
        .ints({1, 2, 1, 1, 0, 1, 0, 2, 1})
        .activation(kind, p0, p1);
    REQUIRE(runner.run().is_ok());
    return runner.output_values();
  };
  check_values(run(ActivationKind::kRelu, 0, 0), {0, 0, 0, 6.25f});
  check_values(run(ActivationKind::kClip, -1, 6), {-1, -0.75f, -1, 6});
  // 1 / (1 + np.exp(-np.array([-2.75, -0.75, -2.75, 6.25])))
  check_values(run(ActivationKind::kSigmoid, 0, 0), {0.06008665f, 0.32082130f, 0.06008665f, 0.99807327f}, 1e-5);
}

TEST_CASE("Conv2d: one element") {
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 1, 1, 1}, {3}).input({1, 1, 1, 1}, {-2}, true).input({1}, {1}, true);
  runner.ints({1, 1, 1, 1, 0, 0, 0, 0, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 1, 1});
  check_values(runner.output_values(), {-5});
}

TEST_CASE("Conv2d: kernel tap only ever sees padding") {
  // W = 1 padded by 2 on each side with a 5-wide kernel: the outer taps always read zeros.
  KernelRunner runner(OpCode::kConv2d);
  runner.input({1, 1, 1, 1}, {2}).input({1, 1, 1, 5}, {100, 10, 1, 10, 100}, true).ints({1, 1, 1, 1, 0, 2, 0, 2, 1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == Dims{1, 1, 1, 1});
  check_values(runner.output_values(), {2});
}

// Naive ONNX-definition convolution, one output element at a time, to
// cross-check odd geometries.
std::vector<float> naive_conv(const std::vector<float>& x, const Dims& xs, const std::vector<float>& w, const Dims& ws,
                              const std::vector<float>& bias, const std::vector<int64_t>& p, Dims* out_shape) {
  const int64_t n_ = xs[0], c_ = xs[1], h_ = xs[2], w_ = xs[3], o_ = ws[0], kh_ = ws[2], kw_ = ws[3];
  const int64_t groups = p[8], cg = c_ / groups, og = o_ / groups;
  const int64_t oh_ = (h_ + p[4] + p[6] - p[2] * (kh_ - 1) - 1) / p[0] + 1;
  const int64_t ow_ = (w_ + p[5] + p[7] - p[3] * (kw_ - 1) - 1) / p[1] + 1;
  *out_shape = {n_, o_, oh_, ow_};
  std::vector<float> y;
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t o = 0; o < o_; ++o)
      for (int64_t oh = 0; oh < oh_; ++oh)
        for (int64_t ow = 0; ow < ow_; ++ow) {
          double sum = bias.empty() ? 0.0 : bias[o];
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t kh = 0; kh < kh_; ++kh)
              for (int64_t kw = 0; kw < kw_; ++kw) {
                const int64_t ih = oh * p[0] + kh * p[2] - p[4], iw = ow * p[1] + kw * p[3] - p[5];
                if (ih < 0 || ih >= h_ || iw < 0 || iw >= w_) continue;
                const int64_t ic = (o / og) * cg + c;
                sum += static_cast<double>(x[((n * c_ + ic) * h_ + ih) * w_ + iw]) *
                       w[((o * cg + c) * kh_ + kh) * kw_ + kw];
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

TEST_CASE("Conv2d: odd geometries match a naive convolution") {
  struct Case {
    Dims x, w;
    std::vector<int64_t> ints;
  };
  const Case cases[] = {
      {{2, 3, 5, 7}, {4, 3, 2, 3}, {2, 1, 1, 2, 0, 1, 1, 0, 1}},
      {{1, 6, 7, 5}, {3, 2, 3, 3}, {1, 2, 2, 1, 2, 1, 0, 3, 3}},
      {{1, 4, 9, 9}, {4, 1, 3, 3}, {3, 3, 1, 1, 1, 1, 1, 1, 4}},
      {{1, 1, 4, 11}, {2, 1, 1, 4}, {1, 3, 1, 3, 0, 4, 0, 4, 1}},
      {{1, 2, 3, 3}, {2, 2, 3, 3}, {5, 5, 1, 1, 2, 2, 2, 2, 1}},
  };
  for (const Case& c : cases) {
    const size_t x_count = static_cast<size_t>(c.x[0] * c.x[1] * c.x[2] * c.x[3]);
    const size_t w_count = static_cast<size_t>(c.w[0] * c.w[1] * c.w[2] * c.w[3]);
    const std::vector<float> x = wave(x_count, 0.3f), w = wave(w_count, 1.1f), bias = wave(c.w[0], 2.f);
    Dims expected_shape;
    const std::vector<float> expected = naive_conv(x, c.x, w, c.w, bias, c.ints, &expected_shape);
    KernelRunner runner(OpCode::kConv2d);
    runner.input(c.x, x).input(c.w, w, true).input({c.w[0]}, bias, true).ints(c.ints);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == expected_shape);
    check_values(runner.output_values(), expected, 1e-5);
  }
}

TEST_CASE("Conv2d: empty tensors") {
  SUBCASE("zero batch") {
    KernelRunner runner(OpCode::kConv2d);
    runner.input({0, 1, 3, 3}, {}).input({1, 1, 3, 3}, kOnes3x3, true).ints({1, 1, 1, 1, 0, 0, 0, 0, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{0, 1, 1, 1});
  }
  SUBCASE("zero output channels") {
    KernelRunner runner(OpCode::kConv2d);
    runner.input({1, 1, 3, 3}, iota(9)).input({0, 1, 3, 3}, {}, true).ints({1, 1, 1, 1, 0, 0, 0, 0, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{1, 0, 1, 1});
  }
  SUBCASE("zero input channels: the output is the bias") {
    KernelRunner runner(OpCode::kConv2d);
    runner.input({1, 0, 2, 2}, {}).input({2, 0, 1, 1}, {}, true).input({2}, {1, -1}, true);
    runner.ints({1, 1, 1, 1, 0, 0, 0, 0, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{1, 2, 2, 2});
    check_values(runner.output_values(), {1, 1, 1, 1, -1, -1, -1, -1});
  }
  SUBCASE("zero width, padding makes room for the kernel") {
    KernelRunner runner(OpCode::kConv2d);
    runner.input({1, 1, 1, 0}, {}).input({1, 1, 1, 1}, {1}, true).input({1}, {7}, true);
    runner.ints({1, 1, 1, 1, 0, 1, 0, 1, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == Dims{1, 1, 1, 2});
    check_values(runner.output_values(), {7, 7});
  }
}

TEST_CASE("Conv2d: infer rejects malformed nodes") {
  const std::vector<float> x = iota(18);
  auto conv = [&](Dims w_shape, std::vector<int64_t> ints) {
    KernelRunner runner(OpCode::kConv2d);
    size_t count = 1;
    for (int64_t d : w_shape) count *= static_cast<size_t>(d);
    runner.input({1, 2, 3, 3}, x).input(w_shape, std::vector<float>(count, 1.f), true).ints(ints);
    return runner;
  };
  const std::vector<int64_t> plain = {1, 1, 1, 1, 0, 0, 0, 0, 1};
  SUBCASE("a valid node passes") { CHECK(conv({1, 2, 2, 2}, plain).infer().is_ok()); }
  SUBCASE("too few ints") { CHECK_FALSE(conv({1, 2, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 0}).infer().is_ok()); }
  SUBCASE("zero stride") {
    Status status = conv({1, 2, 2, 2}, {0, 1, 1, 1, 0, 0, 0, 0, 1}).infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("Conv2d 'test': stride_h = 0") != std::string::npos);
  }
  SUBCASE("zero dilation") { CHECK_FALSE(conv({1, 2, 2, 2}, {1, 1, 1, 0, 0, 0, 0, 0, 1}).infer().is_ok()); }
  SUBCASE("negative pad") { CHECK_FALSE(conv({1, 2, 2, 2}, {1, 1, 1, 1, 0, -1, 0, 0, 1}).infer().is_ok()); }
  SUBCASE("zero groups") { CHECK_FALSE(conv({1, 2, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 0, 0}).infer().is_ok()); }
  SUBCASE("groups do not divide the input channels") {
    CHECK_FALSE(conv({3, 1, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 0, 3}).infer().is_ok());
  }
  SUBCASE("groups do not divide the output channels") {
    CHECK_FALSE(conv({3, 1, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 0, 2}).infer().is_ok());
  }
  SUBCASE("weight channels do not match") { CHECK_FALSE(conv({1, 3, 2, 2}, plain).infer().is_ok()); }
  SUBCASE("kernel larger than the input") { CHECK_FALSE(conv({1, 2, 4, 1}, plain).infer().is_ok()); }
  SUBCASE("dilated kernel larger than the input") {
    CHECK_FALSE(conv({1, 2, 2, 2}, {1, 1, 3, 1, 0, 0, 0, 0, 1}).infer().is_ok());
  }
  SUBCASE("empty kernel") { CHECK_FALSE(conv({1, 2, 0, 2}, plain).infer().is_ok()); }
  SUBCASE("absurd stride") {
    CHECK_FALSE(conv({1, 2, 2, 2}, {int64_t{1} << 40, 1, 1, 1, 0, 0, 0, 0, 1}).infer().is_ok());
  }
  SUBCASE("weight rank differs from input rank") { CHECK_FALSE(conv({1, 2, 2}, plain).infer().is_ok()); }
  SUBCASE("bias of the wrong length") {
    KernelRunner runner = conv({1, 2, 2, 2}, plain);
    runner.input({2}, {1, 2}, true);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("1-D convolution with a vertical stride") {
    KernelRunner runner(OpCode::kConv2d);
    runner.input({1, 1, 5}, iota(5)).input({1, 1, 2}, {1, 1}, true).ints({2, 1, 1, 1, 0, 0, 0, 0, 1});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("rank-5 input") {
    KernelRunner runner(OpCode::kConv2d);
    runner.input({1, 1, 1, 1, 1}, {1}).input({1, 1, 1, 1, 1}, {1}, true).ints(plain);
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("float attributes present") {
    KernelRunner runner = conv({1, 2, 2, 2}, plain);
    runner.floats({1.f});
    CHECK_FALSE(runner.infer().is_ok());
  }
  SUBCASE("unknown activation") {
    KernelRunner runner = conv({1, 2, 2, 2}, plain);
    runner.activation(static_cast<ActivationKind>(42));
    CHECK_FALSE(runner.infer().is_ok());
  }
}

}  // namespace
}  // namespace edgegen
