// Quantization arithmetic: QuantizeLinear / DequantizeLinear, and the int8
// paths of FullyConnected, Conv2d and ConvTranspose2d, against values worked
// out by hand (powers-of-two scales keep the float steps exact) and against
// float convolutions of the dequantized operands.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/quantization.h"
#include "ops/op_params.h"
#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;
using Dims = std::vector<int64_t>;

std::vector<int32_t> widen(const std::vector<int8_t>& values) { return {values.begin(), values.end()}; }

TEST_CASE("QuantizeLinear rounds half to even, saturates, and maps NaN to the zero point") {
  KernelRunner runner(OpCode::kQuantizeLinear);
  runner.input({8}, {0.f, 0.25f, 0.75f, -0.25f, 100.f, -100.f, 1.25f, NAN}).ints({static_cast<int64_t>(DType::kInt8)});
  runner.output_quantization({0.5f}, {1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output().dtype == DType::kInt8);
  // x / 0.5 = 0, 0.5, 1.5, -0.5, 200, -200, 2.5 -> 0, 0, 2, 0, sat, sat, 2; + 1.
  CHECK(widen(runner.output_as<int8_t>()) == std::vector<int32_t>{1, 1, 3, 1, 127, -128, 3, 1});
}

TEST_CASE("QuantizeLinear to uint8") {
  KernelRunner runner(OpCode::kQuantizeLinear);
  runner.input({3}, {-300.f, 3.f, 5.f}).ints({static_cast<int64_t>(DType::kUInt8)}).output_quantization({2.f}, {128});
  REQUIRE(runner.run().is_ok());
  const std::vector<uint8_t> q = runner.output_as<uint8_t>();
  CHECK(std::vector<int>(q.begin(), q.end()) == std::vector<int>{0, 130, 130});  // -150 -> 0; 1.5, 2.5 -> 2
}

TEST_CASE("QuantizeLinear per axis, and refusals") {
  KernelRunner runner(OpCode::kQuantizeLinear);
  runner.input({2, 2}, {1.f, 2.f, 1.f, 2.f}).ints({static_cast<int64_t>(DType::kInt8)});
  runner.output_quantization({1.f, 0.5f}, {0, -2}, 0);
  REQUIRE(runner.run().is_ok());
  CHECK(widen(runner.output_as<int8_t>()) == std::vector<int32_t>{1, 2, 0, 2});

  KernelRunner to_int32(OpCode::kQuantizeLinear);
  to_int32.input({1}, {1.f}).ints({static_cast<int64_t>(DType::kInt32)}).output_quantization({1.f}, {0});
  CHECK(to_int32.infer().code() == StatusCode::kUnsupportedOp);

  KernelRunner wrong_axis(OpCode::kQuantizeLinear);
  wrong_axis.input({2, 3}, std::vector<float>(6, 0.f)).ints({static_cast<int64_t>(DType::kInt8)});
  wrong_axis.output_quantization({1.f, 1.f}, {0, 0}, 1);  // axis 1 has 3 slices
  CHECK(wrong_axis.infer().code() == StatusCode::kInvalidModel);
}

TEST_CASE("DequantizeLinear per tensor and per axis") {
  KernelRunner per_axis(OpCode::kDequantizeLinear);
  per_axis.input_quantized(DType::kInt8, {2, 2}, {1, 2, 3, 4}, {0.5f, 2.f}, {1, -1}, 0);
  REQUIRE(per_axis.run().is_ok());
  CHECK(per_axis.output_values() == std::vector<float>{0.f, 0.5f, 8.f, 10.f});

  KernelRunner uint8(OpCode::kDequantizeLinear);
  uint8.input_quantized(DType::kUInt8, {3}, {0, 128, 255}, {0.25f}, {128});
  REQUIRE(uint8.run().is_ok());
  CHECK(uint8.output_values() == std::vector<float>{-32.f, 0.f, 31.75f});

  KernelRunner int32(OpCode::kDequantizeLinear);
  int32.input_quantized(DType::kInt32, {2}, {-1000000, 7}, {0.5f}, {0});
  REQUIRE(int32.run().is_ok());
  CHECK(int32.output_values() == std::vector<float>{-500000.f, 3.5f});

  KernelRunner unquantized(OpCode::kDequantizeLinear);
  unquantized.input_typed(DType::kInt8, {1}, "\x01", 1);
  CHECK(unquantized.infer().code() == StatusCode::kInvalidModel);
}

// x = {10, -5, 0} at scale 1/8; w rows {2, 4, -1} at 1/2 and {1, 1, 1} at 1/4;
// y at scale 1/16, zero point -3. Requantization scales: 1/8 * 1/2 * 16 = 1
// and 1/8 * 1/4 * 16 = 0.5. acc0 = 20 - 20 + bias0; acc1 = 5 + bias1.
KernelRunner quantized_fc(int32_t bias0, int32_t bias1) {
  KernelRunner runner(OpCode::kFullyConnected);
  runner.input_quantized(DType::kInt8, {1, 3}, {10, -5, 0}, {0.125f}, {0});
  runner.input_quantized(DType::kInt8, {2, 3}, {2, 4, -1, 1, 1, 1}, {0.5f, 0.25f}, {0, 0}, 0, true);
  runner.input_quantized(DType::kInt32, {2}, {bias0, bias1}, {0.0625f, 0.03125f}, {0, 0}, 0, true);
  runner.output_quantization({0.0625f}, {-3});
  return runner;
}

TEST_CASE("FullyConnected int8: per-channel requantization by hand") {
  KernelRunner runner = quantized_fc(10, -2);
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output().dtype == DType::kInt8);
  // acc0 = 10 -> 10 * 1 = 10 -> 7; acc1 = 3 -> 1.5 -> 2 (ties to even) -> -1.
  CHECK(widen(runner.output_as<int8_t>()) == std::vector<int32_t>{7, -1});
}

TEST_CASE("FullyConnected int8: a fused ReLU floors at the zero point; the dtype range saturates") {
  KernelRunner relu = quantized_fc(-30, 200);
  relu.activation(ActivationKind::kRelu);
  REQUIRE(relu.run().is_ok());
  // acc0 = -20 -> below real 0 -> the zero point; acc1 = 205 -> 102.5 -> 102 -> 99.
  CHECK(widen(relu.output_as<int8_t>()) == std::vector<int32_t>{-3, 99});

  KernelRunner saturated = quantized_fc(500, -500);
  REQUIRE(saturated.run().is_ok());
  CHECK(widen(saturated.output_as<int8_t>()) == std::vector<int32_t>{127, -128});

  KernelRunner clip = quantized_fc(10, 200);
  clip.activation(ActivationKind::kClip, -0.125f, 0.25f);  // q in [-5, 1]
  REQUIRE(clip.run().is_ok());
  CHECK(widen(clip.output_as<int8_t>()) == std::vector<int32_t>{1, 1});
}

TEST_CASE("Quantized linear ops refuse what they cannot run") {
  KernelRunner sigmoid = quantized_fc(0, 0);
  sigmoid.activation(ActivationKind::kSigmoid);
  CHECK(sigmoid.infer().code() == StatusCode::kUnsupportedOp);

  KernelRunner int32_output_with_relu = quantized_fc(0, 0);
  int32_output_with_relu.ints({1}).activation(ActivationKind::kRelu);
  CHECK(int32_output_with_relu.infer().code() == StatusCode::kInvalidModel);

  KernelRunner bad_flag = quantized_fc(0, 0);
  bad_flag.ints({2});
  CHECK(bad_flag.infer().code() == StatusCode::kInvalidModel);

  KernelRunner float_bias(OpCode::kFullyConnected);
  float_bias.input_quantized(DType::kInt8, {1, 2}, {1, 2}, {1.f}, {0});
  float_bias.input_quantized(DType::kInt8, {1, 2}, {1, 2}, {1.f}, {0}, -1, true);
  float_bias.input({1}, {0.5f}, true);
  CHECK(float_bias.infer().code() == StatusCode::kInvalidModel);

  KernelRunner per_channel_input(OpCode::kFullyConnected);
  per_channel_input.input_quantized(DType::kInt8, {1, 2}, {1, 2}, {1.f, 1.f}, {0, 0}, 1);
  per_channel_input.input_quantized(DType::kInt8, {1, 2}, {1, 2}, {1.f}, {0}, -1, true);
  CHECK(per_channel_input.infer().code() == StatusCode::kInvalidModel);

  KernelRunner wrong_count(OpCode::kFullyConnected);
  wrong_count.input_quantized(DType::kInt8, {1, 2}, {1, 2}, {1.f}, {0});
  wrong_count.input_quantized(DType::kInt8, {3, 2}, {1, 2, 3, 4, 5, 6}, {1.f, 1.f}, {0, 0}, 0, true);
  CHECK(wrong_count.infer().code() == StatusCode::kInvalidModel);
}

TEST_CASE("FullyConnected: asymmetric and uint8 weights (ONNX QLinearMatMul / MatMulInteger), requantized or int32") {
  // x = {10, -5, 0} - zp 2 = {8, -7, -2}; w uint8 rows {130, 120, 128} - 128 = {2, -8, 0}
  // and {1, 3, 5} - zp 3 (per channel) = {-2, 0, 2}: acc = 16 + 56 = 72 and -16 - 4 = -20.
  auto runner = [] {
    KernelRunner fc(OpCode::kFullyConnected);
    fc.input_quantized(DType::kInt8, {1, 3}, {10, -5, 0}, {0.5f}, {2});
    fc.input_quantized(DType::kUInt8, {2, 3}, {130, 120, 128, 1, 3, 5}, {0.25f, 0.25f}, {128, 3}, 0, true);
    return fc;
  };
  KernelRunner int32 = runner();
  int32.ints({1});
  REQUIRE(int32.run().is_ok());
  CHECK(int32.output().dtype == DType::kInt32);
  CHECK(int32.output_as<int32_t>() == std::vector<int32_t>{72, -20});

  KernelRunner requantized = runner();
  requantized.output_quantization({0.5f}, {1});  // scale 0.5 * 0.25 / 0.5 = 0.25: 18, -5
  REQUIRE(requantized.run().is_ok());
  CHECK(widen(requantized.output_as<int8_t>()) == std::vector<int32_t>{19, -4});
}

TEST_CASE("MatMul of two quantized activations, requantized or int32, with broadcast batches") {
  // a [2, 1, 2] uint8 zp 1, b [2, 2] int8 zp -1 (not constant).
  auto runner = [] {
    KernelRunner matmul(OpCode::kMatMul);
    matmul.input_quantized(DType::kUInt8, {2, 1, 2}, {3, 1, 0, 5}, {0.5f}, {1});
    matmul.input_quantized(DType::kInt8, {2, 2}, {1, -1, 0, 2}, {0.5f}, {-1});
    return matmul;
  };
  // a - 1 = {2, 0}, {-1, 4}; b + 1 = {{2, 0}, {1, 3}}: {4, 0} and {2, 12}.
  KernelRunner int32 = runner();
  int32.ints({1});
  REQUIRE(int32.run().is_ok());
  CHECK(int32.output_as<int32_t>() == std::vector<int32_t>{4, 0, 2, 12});

  KernelRunner requantized = runner();
  requantized.output_quantization({0.5f}, {10});  // scale 0.5: 2, 0, 1, 6
  REQUIRE(requantized.run().is_ok());
  CHECK(requantized.output().dtype == DType::kUInt8);
  const std::vector<uint8_t> y = requantized.output_as<uint8_t>();
  CHECK(std::vector<int>(y.begin(), y.end()) == std::vector<int>{12, 10, 11, 16});
}

TEST_CASE("Conv2d int32 output with weight zero points; padding adds nothing (ONNX ConvInteger)") {
  // x 1x1x2x2 uint8 zp 1, w 1x1x2x2 uint8 zp 1 (all weights 2 -> 1), pads 1: each
  // output sums the in-range (x - 1).
  KernelRunner conv(OpCode::kConv2d);
  conv.input_quantized(DType::kUInt8, {1, 1, 2, 2}, {2, 3, 4, 5}, {1.f}, {1});
  conv.input_quantized(DType::kUInt8, {1, 1, 2, 2}, {2, 2, 2, 2}, {1.f}, {1}, -1, true);
  conv.ints({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  REQUIRE(conv.run().is_ok());
  CHECK(conv.output().dtype == DType::kInt32);
  CHECK(conv.output_as<int32_t>() == std::vector<int32_t>{1, 3, 2, 4, 10, 6, 3, 7, 4});
}

// A quantized convolution (or transposed one) against the float kernel run
// on the dequantized operands, requantized: within 1 LSB everywhere.
void check_against_float(OpCode opcode, Dims x_shape, Dims w_shape, std::vector<int64_t> ints, int weight_axis,
                         DType dtype) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> x_values(dtype == DType::kUInt8 ? 0 : -128, dtype == DType::kUInt8 ? 255 : 127);
  std::uniform_int_distribution<int> w_values(-127, 127);
  int64_t x_count = 1, w_count = 1;
  for (int64_t d : x_shape) x_count *= d;
  for (int64_t d : w_shape) w_count *= d;
  std::vector<int32_t> xq(static_cast<size_t>(x_count)), wq(static_cast<size_t>(w_count));
  for (auto& v : xq) v = x_values(rng);
  for (auto& v : wq) v = w_values(rng);
  const int64_t channels = w_shape[static_cast<size_t>(weight_axis)];
  std::vector<float> w_scales;
  for (int64_t c = 0; c < channels; ++c) w_scales.push_back(0.01f * static_cast<float>(c + 1));
  std::vector<int32_t> bias;
  for (int64_t c = 0; c < channels; ++c) bias.push_back(static_cast<int32_t>(c * 37 - 50));
  const float x_scale = 0.05f, y_scale = 0.5f;
  const int32_t x_zero = dtype == DType::kUInt8 ? 120 : -7, y_zero = dtype == DType::kUInt8 ? 130 : 5;

  KernelRunner quantized(opcode);
  quantized.input_quantized(dtype, x_shape, xq, {x_scale}, {x_zero});
  quantized.input_quantized(DType::kInt8, w_shape, wq, w_scales, std::vector<int64_t>(w_scales.size(), 0), weight_axis,
                            true);
  quantized.input_quantized(DType::kInt32, {channels}, bias, {1.f}, {0}, -1, true);
  quantized.ints(ints).output_quantization({y_scale}, {y_zero});
  REQUIRE(quantized.run().is_ok());

  std::vector<float> x(xq.size()), w(wq.size()), b(bias.size());
  for (size_t i = 0; i < xq.size(); ++i) x[i] = static_cast<float>(xq[i] - x_zero) * x_scale;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(weight_axis) + 1; d < w_shape.size(); ++d) inner *= w_shape[d];
  for (size_t i = 0; i < wq.size(); ++i)
    w[i] = static_cast<float>(wq[i]) * w_scales[static_cast<size_t>((static_cast<int64_t>(i) / inner) % channels)];
  for (size_t c = 0; c < b.size(); ++c) b[c] = static_cast<float>(bias[c]) * x_scale * w_scales[c];
  KernelRunner reference(opcode);
  reference.input(x_shape, x).input(w_shape, w, true).input({channels}, b, true).ints(ints);
  REQUIRE(reference.run().is_ok());
  const std::vector<float> expected = reference.output_values();
  const QuantizedRange range = quantized_range(dtype);
  for (size_t i = 0; i < expected.size(); ++i) {
    const int32_t want = quantize_value(expected[i], y_scale, y_zero, range);
    const int32_t got = dtype == DType::kUInt8 ? quantized.output_as<uint8_t>()[i] : quantized.output_as<int8_t>()[i];
    INFO("element ", i, ": float ", expected[i]);
    CHECK(std::abs(got - want) <= 1);
  }
}

TEST_CASE("Conv2d int8 and uint8 agree with the float convolution within 1 LSB") {
  // stride 2, dilation 1, pads 1, groups 1; then a grouped one.
  check_against_float(OpCode::kConv2d, {2, 3, 7, 6}, {4, 3, 3, 3}, {2, 2, 1, 1, 1, 1, 1, 1, 1}, 0, DType::kInt8);
  check_against_float(OpCode::kConv2d, {1, 4, 5, 5}, {6, 2, 3, 1}, {1, 1, 1, 1, 0, 1, 2, 0, 2}, 0, DType::kUInt8);
  check_against_float(OpCode::kConv2d, {1, 2, 9}, {3, 2, 4}, {1, 2, 1, 1, 0, 2, 0, 1, 1}, 0, DType::kInt8);  // 1-D
}

TEST_CASE("ConvTranspose2d int8 and uint8 agree with the float one within 1 LSB") {
  // stride 2, pads 1, output padding 1 (DCGAN-style upsampling).
  check_against_float(OpCode::kConvTranspose2d, {2, 3, 4, 3}, {3, 5, 4, 4}, {2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1,
                      DType::kInt8);
  check_against_float(OpCode::kConvTranspose2d, {1, 2, 3, 3}, {2, 3, 3, 3}, {1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0}, 1,
                      DType::kUInt8);
}

TEST_CASE("Requantize rounds half to even and clamps before adding the zero point") {
  Requantize r;
  r.scale = 0.5f;
  r.zero_point = 10;
  r.low = -138.f;
  r.high = 117.f;
  CHECK(r(1) == 10);     // 0.5 -> 0
  CHECK(r(3) == 12);     // 1.5 -> 2
  CHECK(r(-3) == 8);     // -1.5 -> -2
  CHECK(r(1000) == 127);
  CHECK(r(-1000) == -128);
  CHECK(round_half_even(2.5f) == 2.f);
  CHECK(round_half_even(-0.5f) == 0.f);
  CHECK(round_half_even(3.5f) == 4.f);
}

}  // namespace
}  // namespace edgegen
