// --weights fp16: the rounding of each weight, checked against values
// worked out by hand from IEEE 754 binary16 (1 sign, 5 exponent bits of
// bias 15, 10 mantissa bits; subnormals are m * 2^-24).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "converter/converter.h"
#include "converter/quantize/fp16_weights.h"

using namespace edgegen;
using namespace edgegen::converter;

namespace {

uint16_t half(float value) { return float16_weight(value, "constant 'w'"); }

IrTensor float_constant(const std::string& name, int64_t count, float fill) {
  IrTensor tensor;
  tensor.name = name;
  tensor.shape = {count};
  tensor.is_constant = true;
  std::vector<float> values(static_cast<size_t>(count), fill);
  tensor.data.resize(values.size() * sizeof(float));
  std::memcpy(tensor.data.data(), values.data(), tensor.data.size());
  return tensor;
}

}  // namespace

TEST_CASE("float16 weights: exact values, ties to even, the largest finite value") {
  CHECK(half(1.f) == 0x3c00);
  CHECK(half(-2.f) == 0xc000);
  CHECK(half(0.5f) == 0x3800);
  CHECK(half(0.f) == 0x0000);
  CHECK(half(-0.f) == 0x8000);
  // 1 + 2^-11 lies halfway between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): down.
  CHECK(half(1.f + std::ldexp(1.f, -11)) == 0x3c00);
  // 1 + 3 * 2^-11 lies halfway between 0x3c01 (odd) and 0x3c02 (even): up.
  CHECK(half(1.f + 3 * std::ldexp(1.f, -11)) == 0x3c02);
  // Just above a tie rounds up, just below rounds down.
  CHECK(half(std::nextafter(1.f + std::ldexp(1.f, -11), 2.f)) == 0x3c01);
  CHECK(half(std::nextafter(1.f + 3 * std::ldexp(1.f, -11), 0.f)) == 0x3c01);
  // 0.1 = 0x3dcccccd in float32 -> 0x2e66 (1.6 * 2^-4, mantissa 0.6 * 1024 = 614.4 -> 614).
  CHECK(half(0.1f) == 0x2e66);
  // The largest finite float16, 65504 = (2 - 2^-10) * 2^15; up to just below 65520 rounds to it.
  CHECK(half(65504.f) == 0x7bff);
  CHECK(half(-65504.f) == 0xfbff);
  CHECK(half(std::nextafter(65520.f, 0.f)) == 0x7bff);
  // A carry out of the mantissa moves to the next binade: 2047.5 -> 2048.
  CHECK(half(2047.5f) == 0x6800);
}

TEST_CASE("float16 weights: subnormals round to nearest even, tiny values to a signed zero") {
  CHECK(half(std::ldexp(1.f, -24)) == 0x0001);    // the smallest subnormal
  CHECK(half(-std::ldexp(1.f, -24)) == 0x8001);
  CHECK(half(std::ldexp(1.f, -25)) == 0x0000);    // halfway between 0 and 2^-24: to even (0)
  CHECK(half(std::ldexp(1.5f, -25)) == 0x0001);   // above halfway
  CHECK(half(3 * std::ldexp(1.f, -25)) == 0x0002);  // 1.5 ulp: halfway between 1 and 2, to even
  CHECK(half(5 * std::ldexp(1.f, -25)) == 0x0002);  // 2.5 ulp: halfway between 2 and 3, to even
  CHECK(half(std::ldexp(1023.f, -24)) == 0x03ff);  // the largest subnormal
  // Halfway between the largest subnormal and the smallest normal 2^-14: to even, the normal.
  CHECK(half(std::ldexp(1023.5f, -24)) == 0x0400);
  CHECK(half(std::ldexp(1.f, -14)) == 0x0400);
  CHECK(half(1e-10f) == 0x0000);
  CHECK(half(-1e-10f) == 0x8000);
  CHECK(half(std::numeric_limits<float>::denorm_min()) == 0x0000);
}

TEST_CASE("float16 weights: infinities and NaN pass through, finite overflow is refused naming the tensor") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(half(inf) == 0x7c00);
  CHECK(half(-inf) == 0xfc00);
  CHECK(half(std::numeric_limits<float>::quiet_NaN()) == 0x7e00);
  CHECK((half(-std::numeric_limits<float>::quiet_NaN()) & 0xfe00) == 0xfe00);  // sign kept, quiet
  CHECK_THROWS_WITH_AS(half(65520.f), doctest::Contains("constant 'w' holds 65520, beyond float16's largest"),
                       ConversionError);
  CHECK_THROWS_AS(half(-1e6f), ConversionError);
  CHECK_THROWS_AS(half(std::numeric_limits<float>::max()), ConversionError);
}

TEST_CASE("store_float16_weights converts float32 constants of 1024+ elements only") {
  std::vector<IrGraph> graphs(2);
  graphs[0].name = "decoder";
  graphs[0].tensors.push_back(float_constant("weight", 1024, 0.1f));
  graphs[0].tensors.push_back(float_constant("bias", 1023, 0.1f));
  IrTensor activation;
  activation.name = "x";
  activation.shape = {4096};
  graphs[0].tensors.push_back(activation);
  IrTensor int8_weight;
  int8_weight.name = "q";
  int8_weight.dtype = DType::kInt8;
  int8_weight.shape = {2048};
  int8_weight.is_constant = true;
  int8_weight.data.assign(2048, 3);
  graphs[1].tensors.push_back(int8_weight);
  graphs[1].tensors.push_back(float_constant("table", 2000, -3.f));
  graphs[1].tensors.push_back(float_constant("weight", 1024, 0.1f));  // the same as graph 0's: counted once

  const Float16WeightsReport report = store_float16_weights(graphs);
  CHECK(report.converted == 2);
  CHECK(report.kept_float32 == 1);
  CHECK(report.float32_bytes == (1024 + 2000) * 4);
  CHECK(report.float16_bytes == (1024 + 2000) * 2);
  // 0.1 -> 0.0999755859375: relative error 2.44e-4; -3 is exact.
  CHECK(report.max_relative_error == doctest::Approx(2.44140625e-4).epsilon(1e-3));
  const IrTensor& weight = graphs[0].tensors[0];
  CHECK(weight.dtype == DType::kFloat16);
  REQUIRE(weight.data.size() == 2048);
  uint16_t first;
  std::memcpy(&first, weight.data.data(), 2);
  CHECK(first == 0x2e66);
  CHECK(graphs[0].tensors[1].dtype == DType::kFloat32);
  CHECK(graphs[0].tensors[1].data.size() == 1023 * 4);
  CHECK(graphs[0].tensors[2].dtype == DType::kFloat32);
  CHECK(graphs[1].tensors[0].dtype == DType::kInt8);
  CHECK(graphs[1].tensors[1].dtype == DType::kFloat16);
  CHECK(graphs[1].tensors[2].data == weight.data);
  uint16_t table;
  std::memcpy(&table, graphs[1].tensors[1].data.data() + 2 * 1999, 2);
  CHECK(table == 0xc200);
}

TEST_CASE("store_float16_weights refuses a weight beyond float16's range, naming graph and constant") {
  std::vector<IrGraph> graphs(1);
  graphs[0].name = "denoiser";
  graphs[0].tensors.push_back(float_constant("blocks.3.weight", 4096, 1e5f));
  CHECK_THROWS_WITH_AS(store_float16_weights(graphs),
                       doctest::Contains("graph 'denoiser': constant 'blocks.3.weight' holds 100000"),
                       ConversionError);
}
