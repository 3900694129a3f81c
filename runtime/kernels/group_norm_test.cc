// GroupNorm (PyTorch nn.GroupNorm): statistics over each group of C / groups
// consecutive channels x spatial, then per-channel gamma and beta.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// NumPy reference, in float64 then cast (same as torch.nn.functional.group_norm):
//   xs = x.reshape(N, G, -1); sh = [1, -1] + [1] * (x.ndim - 2)
//   y = ((xs - xs.mean(-1, keepdims=True)) / np.sqrt(xs.var(-1, keepdims=True) + eps)).reshape(x.shape)
//   (y * g.reshape(sh) + b.reshape(sh)).astype(np.float32)

TEST_CASE("GroupNorm: two groups of two channels") {
  KernelRunner runner(OpCode::kGroupNorm);
  runner.input({1, 4, 2}, {1, 2, 3, 4, 5, 6, 7, 9})
      .input({4}, {1, 1, 1, 1}, true)
      .input({4}, {0, 0, 0, 0}, true)
      .ints({2})
      .floats({1e-5f});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{1, 4, 2});
  check_close(runner.output_values(),
              {-1.3416355f, -0.4472118f, 0.4472118f, 1.3416355f, -1.1832132f, -0.5070914f, 0.16903046f, 1.5212742f});
}

TEST_CASE("GroupNorm: odd sizes, per-channel gamma and beta, a constant group") {
  KernelRunner runner(OpCode::kGroupNorm);
  runner
      .input({2, 6, 3}, {0.5f, 1, -1, 2, 3, 0, 1, 1, 2, -2, 4, 0.5f, 3, 3, 3, 0, 1, -1,
                         5, 4, 3, 2, 1, 0, -1, -2, -3, 0.25f, 0.5f, 0.75f, 1, -1, 1, 2, 0, 6})
      .input({6}, {1, 0.5f, -1, 2, 1.5f, -0.5f}, true)
      .input({6}, {0, 0.1f, 0.2f, -0.1f, 0.3f, -0.2f}, true)
      .ints({3})
      .floats({1e-3f});
  REQUIRE(runner.run().is_ok());
  check_close(runner.output_values(),
              {-0.31934446f, 0.063868888f, -1.4689845f, 0.51514781f,  0.89836115f,  -0.25127888f,
               0.24656737f,  0.24656737f,  -0.31224108f, -3.5459855f, 3.1597159f,   -0.75194317f,
               1.6996139f,   1.6996139f,   1.6996139f,  0.26653796f, -0.044487346f, 0.57756329f,
               1.4635992f,   0.87815952f,  0.29271984f, -0.046359923f, -0.33907977f, -0.63179964f,
               0.3805317f,   1.1026585f,   1.8247852f,  1.3442535f,  1.7053169f,   2.0663803f,
               -0.038206309f, -1.3910316f, -0.038206309f, -0.31273544f, 0.13820632f, -1.2146189f});
}

TEST_CASE("GroupNorm: one group normalizes over all channels") {
  KernelRunner runner(OpCode::kGroupNorm);
  runner.input({1, 2, 3}, {0.5f, 1, -1, 2, 3, 0})
      .input({2}, {1, 1}, true)
      .input({2}, {0, 0}, true)
      .ints({1})
      .floats({1e-5f});
  REQUIRE(runner.run().is_ok());
  check_close(runner.output_values(), {-0.31943735f, 0.063887469f, -1.4694117f, 0.83053708f, 1.5971867f, -0.70276213f});
}

TEST_CASE("GroupNorm: groups == channels equals InstanceNorm") {
  const std::vector<float> x = {-1, 0, 1, 2, 3, 4};
  KernelRunner group(OpCode::kGroupNorm);
  group.input({1, 2, 1, 3}, x).input({2}, {1, 1.5f}, true).input({2}, {0, 1}, true).ints({2}).floats({1e-5f});
  REQUIRE(group.run().is_ok());
  // ONNX test_instancenorm_example's output.
  check_close(group.output_values(), {-1.2247356f, 0.f, 1.2247356f, -0.83710349f, 1.f, 2.8371034f});
}

TEST_CASE("GroupNorm: one element and empty tensors") {
  SUBCASE("one element") {
    KernelRunner runner(OpCode::kGroupNorm);
    runner.input({1, 1, 1}, {7}).input({1}, {2}, true).input({1}, {-0.5f}, true).ints({1}).floats({1e-5f});
    REQUIRE(runner.run().is_ok());
    check_close(runner.output_values(), {-0.5f});
  }
  SUBCASE("zero batch") {
    KernelRunner runner(OpCode::kGroupNorm);
    runner.input({0, 4, 3}, {}).input({4}, {1, 1, 1, 1}, true).input({4}, {0, 0, 0, 0}, true).ints({2}).floats(
        {1e-5f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0, 4, 3});
  }
  SUBCASE("zero spatial") {
    KernelRunner runner(OpCode::kGroupNorm);
    runner.input({2, 4, 0}, {}).input({4}, {1, 1, 1, 1}, true).input({4}, {0, 0, 0, 0}, true).ints({4}).floats(
        {1e-5f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 4, 0});
  }
}

TEST_CASE("GroupNorm: in place (output aliasing x) gives the same result") {
  // What a memory plan that reuses x's slot for the output does.
  std::vector<float> buffer = {1, 2, 3, 4, 5, 6, 7, 9};
  std::vector<float> gamma = {1, 1, 1, 1}, beta = {0, 0, 0, 0};
  Tensor x, scale, shift, y;
  x.shape.rank = 3;
  x.shape.dims[0] = 1;
  x.shape.dims[1] = 4;
  x.shape.dims[2] = 2;
  x.data = buffer.data();
  scale.shape.rank = shift.shape.rank = 1;
  scale.shape.dims[0] = shift.shape.dims[0] = 4;
  scale.data = gamma.data();
  shift.data = beta.data();
  const Tensor* inputs[] = {&x, &scale, &shift};
  Tensor* outputs[] = {&y};
  const int64_t groups[] = {2};
  const float epsilon[] = {1e-5f};
  KernelContext context;
  context.opcode = static_cast<uint32_t>(OpCode::kGroupNorm);
  context.inputs = inputs;
  context.num_inputs = 3;
  context.outputs = outputs;
  context.num_outputs = 1;
  context.attributes.ints = groups;
  context.attributes.num_ints = 1;
  context.attributes.floats = epsilon;
  context.attributes.num_floats = 1;
  const Kernel* kernel = find_reference_kernel(context.opcode);
  REQUIRE(kernel->infer(context).is_ok());
  y.data = buffer.data();
  REQUIRE(kernel->eval(context).is_ok());
  // Same numbers as "two groups of two channels".
  check_close(buffer, {-1.3416355f, -0.4472118f, 0.4472118f, 1.3416355f, -1.1832132f, -0.5070914f, 0.16903046f,
                       1.5212742f});
}

TEST_CASE("GroupNorm: infer rejects malformed nodes") {
  auto make = [](int64_t groups) {
    KernelRunner runner(OpCode::kGroupNorm);
    runner.input({1, 6, 2}, std::vector<float>(12, 1.f))
        .input({6}, std::vector<float>(6, 1.f), true)
        .input({6}, std::vector<float>(6, 0.f), true)
        .ints({groups})
        .floats({1e-5f});
    return runner;
  };
  SUBCASE("groups not dividing channels") {
    KernelRunner runner = make(4);
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("groups 4") != std::string::npos);
  }
  SUBCASE("zero groups") { CHECK(make(0).infer().code() == StatusCode::kInvalidModel); }
  SUBCASE("negative groups") { CHECK(make(-2).infer().code() == StatusCode::kInvalidModel); }
  SUBCASE("gamma of shape [groups] (ONNX opset 18 layout)") {
    KernelRunner runner(OpCode::kGroupNorm);
    runner.input({1, 6, 2}, std::vector<float>(12, 1.f))
        .input({3}, {1, 1, 1}, true)
        .input({3}, {0, 0, 0}, true)
        .ints({3})
        .floats({1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("missing groups") {
    KernelRunner runner(OpCode::kGroupNorm);
    runner.input({1, 2, 2}, {1, 2, 3, 4}).input({2}, {1, 1}, true).input({2}, {0, 0}, true).floats({1e-5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}


TEST_CASE("GroupNorm: a fused activation applies after the affine step (ReLU, SiLU, Clip)") {
  const std::vector<float> x = {0.5f, 1, -1, 2, 3, 0, 1, 1, 2, -2, 4, 0.5f};
  KernelRunner plain(OpCode::kGroupNorm);
  plain.input({1, 4, 3}, x).input({4}, {1, -0.5f, 2, 1}, true).input({4}, {0.1f, 0, -0.2f, 0.3f}, true).ints({2}).floats({1e-5f});
  REQUIRE(plain.run().is_ok());
  const std::vector<float> y = plain.output_values();
  for (ActivationKind kind : {ActivationKind::kRelu, ActivationKind::kSilu, ActivationKind::kClip}) {
    KernelRunner fused(OpCode::kGroupNorm);
    fused.input({1, 4, 3}, x).input({4}, {1, -0.5f, 2, 1}, true).input({4}, {0.1f, 0, -0.2f, 0.3f}, true).ints({2})
        .floats({1e-5f}).activation(kind, -0.5f, 0.75f);
    REQUIRE(fused.run().is_ok());
    std::vector<float> expected;
    for (float v : y) expected.push_back(apply_activation(v, FusedActivation{kind, -0.5f, 0.75f}));
    check_close(fused.output_values(), expected);
  }
}


// Random int8 values of a given spread around a mean, to normalize.
std::vector<int32_t> int8_values(size_t n, uint32_t seed, int32_t mean, int32_t spread, int32_t low = -128,
                                 int32_t high = 127) {
  std::vector<int32_t> values(n);
  uint32_t state = seed;
  for (int32_t& v : values) {
    state = state * 1664525u + 1013904223u;
    const int32_t r = static_cast<int32_t>(state >> 8) % (2 * spread + 1) - spread;
    v = std::min(high, std::max(low, mean + r));
  }
  return values;
}

TEST_CASE("GroupNorm: int8 and uint8 in and out, within one step of dequantize -> float norm -> quantize") {
  struct Case {
    std::vector<int64_t> shape;
    int64_t groups;
    DType dtype;
    ActivationKind act;
    float x_scale, y_scale;
    int64_t x_zp, y_zp;
  };
  const Case cases[] = {
      {{2, 6, 5, 3}, 3, DType::kInt8, ActivationKind::kNone, 0.05f, 0.03f, 3, -5},
      {{1, 8, 4, 4}, 8, DType::kInt8, ActivationKind::kRelu, 0.02f, 0.02f, -10, -128},  // InstanceNorm, ReLU
      {{1, 4, 7}, 2, DType::kInt8, ActivationKind::kSilu, 0.1f, 0.015f, 0, -90},
      {{2, 3, 2, 2}, 1, DType::kUInt8, ActivationKind::kClip, 0.04f, 0.01f, 128, 40},
  };
  for (const Case& c : cases) {
    CAPTURE(c.groups);
    CAPTURE(static_cast<int>(c.act));
    size_t n = 1;
    for (int64_t d : c.shape) n *= static_cast<size_t>(d);
    const bool u8 = c.dtype == DType::kUInt8;
    std::vector<int32_t> q = int8_values(n, 7u + static_cast<uint32_t>(n), u8 ? 140 : 5, 60, u8 ? 0 : -128, u8 ? 255 : 127);
    const int64_t channels = c.shape[1];
    std::vector<float> gamma, beta;
    for (int64_t ch = 0; ch < channels; ++ch) {
      gamma.push_back(0.5f + 0.25f * static_cast<float>(ch % 4) * (ch % 2 ? -1.f : 1.f));
      beta.push_back(0.1f * static_cast<float>(ch % 3) - 0.1f);
    }
    // The float path: dequantize, the float kernel, quantize.
    std::vector<float> real;
    for (int32_t v : q) real.push_back(c.x_scale * static_cast<float>(v - c.x_zp));
    KernelRunner reference(OpCode::kGroupNorm);
    reference.input(c.shape, real).input({channels}, gamma, true).input({channels}, beta, true).ints({c.groups})
        .floats({1e-5f}).activation(c.act, -0.5f, 0.75f);
    REQUIRE(reference.run().is_ok());
    const std::vector<float> y = reference.output_values();

    KernelRunner quantized(OpCode::kGroupNorm);
    quantized.input_quantized(c.dtype, c.shape, q, {c.x_scale}, {c.x_zp})
        .input({channels}, gamma, true)
        .input({channels}, beta, true)
        .ints({c.groups})
        .floats({1e-5f})
        .activation(c.act, -0.5f, 0.75f)
        .output_quantization({c.y_scale}, {c.y_zp});
    Status status = quantized.run();
    REQUIRE_MESSAGE(status.is_ok(), status.message());
    REQUIRE(quantized.output().dtype == c.dtype);
    std::vector<int32_t> got;
    if (u8) for (uint8_t v : quantized.output_as<uint8_t>()) got.push_back(v);
    else for (int8_t v : quantized.output_as<int8_t>()) got.push_back(v);
    int worst = 0;
    std::vector<int32_t> distinct;
    for (size_t i = 0; i < n; ++i) {
      const float exact = std::nearbyint(y[i] / c.y_scale) + static_cast<float>(c.y_zp);
      const int32_t want = static_cast<int32_t>(std::fmin(u8 ? 255.f : 127.f, std::fmax(u8 ? 0.f : -128.f, exact)));
      worst = std::max(worst, std::abs(got[i] - want));
      if (std::find(distinct.begin(), distinct.end(), got[i]) == distinct.end()) distinct.push_back(got[i]);
    }
    CHECK(worst <= 1);
    CHECK(distinct.size() >= 10);  // the scales spread the outputs over the range
  }
}

TEST_CASE("GroupNorm: int8 refuses a per-channel input quantization and an output without one") {
  const std::vector<int32_t> q = {1, 2, 3, 4, 5, 6};
  KernelRunner per_axis(OpCode::kGroupNorm);
  per_axis.input_quantized(DType::kInt8, {1, 2, 3}, q, {0.1f, 0.2f}, {0, 0}, 1)
      .input({2}, {1, 1}, true)
      .input({2}, {0, 0}, true)
      .ints({1})
      .floats({1e-5f})
      .output_quantization({0.1f}, {0});
  Status status = per_axis.infer();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("one scale and zero point") != std::string::npos);
  KernelRunner no_output(OpCode::kGroupNorm);
  no_output.input_quantized(DType::kInt8, {1, 2, 3}, q, {0.1f}, {0}).input({2}, {1, 1}, true).input({2}, {0, 0}, true)
      .ints({1}).floats({1e-5f});
  status = no_output.run();
  REQUIRE_FALSE(status.is_ok());
  CHECK(std::string(status.message()).find("no quantization") != std::string::npos);
}

}  // namespace
}  // namespace edgegen
