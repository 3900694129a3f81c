// Pad (ONNX Pad): ints {mode, begins..., ends...}, floats {value}; negative
// pads crop first, then positive pads are added (ONNX Runtime semantics).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ops/op_params.h"
#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

constexpr int64_t kConstant = params::kPadConstant;
constexpr int64_t kReflect = params::kPadReflect;
constexpr int64_t kEdge = params::kPadEdge;

std::vector<float> range_floats(int first, int count) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) values[static_cast<size_t>(i)] = static_cast<float>(first + i);
  return values;
}

// The three examples of the ONNX Pad documentation: pads = [0, 2, 0, 0].
TEST_CASE("Pad: ONNX documentation examples") {
  const std::vector<float> x = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};
  SUBCASE("constant") {
    KernelRunner runner(OpCode::kPad);
    runner.input({3, 2}, x).ints({kConstant, 0, 2, 0, 0}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{3, 4});
    CHECK(runner.output_values() == std::vector<float>{0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f});
  }
  SUBCASE("reflect") {
    KernelRunner runner(OpCode::kPad);
    runner.input({3, 2}, x).ints({kReflect, 0, 2, 0, 0}).floats({0.f});
    // pad 2 on a length-2 axis: reflect needs pad < length.
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
    // ONNX's example output ([1.0, 1.2, 1.0, 1.2], ...) is numpy's repeated
    // reflection; pad 1 is the largest ONNX Runtime accepts here.
    KernelRunner one(OpCode::kPad);
    one.input({3, 2}, x).ints({kReflect, 0, 1, 0, 0}).floats({0.f});
    REQUIRE(one.run().is_ok());
    CHECK(one.output_values() == std::vector<float>{1.2f, 1.0f, 1.2f, 3.4f, 2.3f, 3.4f, 5.7f, 4.5f, 5.7f});
  }
  SUBCASE("edge") {
    KernelRunner runner(OpCode::kPad);
    runner.input({3, 2}, x).ints({kEdge, 0, 2, 0, 0}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() ==
          std::vector<float>{1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f});
  }
}

TEST_CASE("Pad: ONNX backend test test_reflect_pad (int32, pads [0, 0, 1, 1, 0, 0, 1, 1])") {
  const std::vector<int32_t> x = {
      0, 0, 0, -1, 0, 0, -1, 0, 0, 0, 0, 0, 1, -1, 0, 0, 0, 0, 0, 0, -1, 0, 0, -1, 1, 1, 1, 0, -1,
      1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, -1, -1, 0, -1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  const std::vector<int32_t> expected = {  // output_0.pb
      -1, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, -1, -1, 0, -1, 0, 0, 0, 0, 0, 0, 0, 1, -1, 0, -1, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 1, -1, 0, -1, 1, 1, 1, 0, -1, 1, -1, 0, -1, 0, 0, -1, 1, -1, 1, 1,
      1, 0, -1, 1, -1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1,
      1, 1, -1, 1, -1, -1, 0, -1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0,
      0, 1, 0, 0, 1, 0, 1};
  KernelRunner runner(OpCode::kPad);
  runner.input_i32({1, 3, 4, 5}, x, false).ints({kReflect, 0, 0, 1, 1, 0, 0, 1, 1}).floats({0.f});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{1, 3, 6, 7});
  CHECK(runner.output_as<int32_t>() == expected);
}

TEST_CASE("Pad: ONNX backend test test_edge_pad (int32, pads [0, 0, 1, 1, 0, 0, 1, 1])") {
  const std::vector<int32_t> x = {
      1, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -2, 0, 0, 0, 2, -1, 0, 0, 1, 1, 0,
      0, 0, -1, 0, 0, 1, 1, 0, 0, -1, -1, -1, 1, 0, 0, -1, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0};
  const std::vector<int32_t> expected = {  // output_0.pb
      1, 1, 0, 0, 2, 1, 1, 1, 1, 0, 0, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
      0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, -2, -2, 0, 0, 0, 2, 2, -2, -2, 0, 0, 0, 2, 2, -1, -1, 0, 0,
      1, 1, 1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, -1, -1, -1, -1, 1, 0,
      0, -1, -1, -1, -1, 1, 0, 0, 0, 0, -1, 0, -1, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0};
  KernelRunner runner(OpCode::kPad);
  runner.input_i32({1, 3, 4, 5}, x, false).ints({kEdge, 0, 0, 1, 1, 0, 0, 1, 1}).floats({0.f});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{1, 3, 6, 7});
  CHECK(runner.output_as<int32_t>() == expected);
}

// x = np.arange(1, 13).reshape(3, 4) below.
TEST_CASE("Pad: both axes, every side") {
  SUBCASE("reflect: np.pad(x, ((1, 2), (2, 1)), 'reflect')") {
    KernelRunner runner(OpCode::kPad);
    runner.input({3, 4}, range_floats(1, 12)).ints({kReflect, 1, 2, 2, 1}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{6, 7});
    CHECK(runner.output_values() ==
          std::vector<float>{7, 6, 5, 6, 7, 8, 7, 3, 2,  1,  2,  3,  4,  3, 7, 6, 5, 6, 7, 8, 7,
                             11, 10, 9, 10, 11, 12, 11, 7, 6, 5, 6, 7, 8, 7, 3, 2, 1, 2, 3, 4, 3});
  }
  SUBCASE("edge: np.pad(x, ((2, 0), (1, 3)), 'edge')") {
    KernelRunner runner(OpCode::kPad);
    runner.input({3, 4}, range_floats(1, 12)).ints({kEdge, 2, 1, 0, 3}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{5, 8});
    CHECK(runner.output_values() == std::vector<float>{1, 1, 2, 3, 4, 4, 4, 4, 1, 1, 2, 3, 4, 4, 4, 4,
                                                       1, 1, 2, 3, 4, 4, 4, 4, 5, 5, 6, 7, 8, 8, 8, 8,
                                                       9, 9, 10, 11, 12, 12, 12, 12});
  }
  SUBCASE("constant: np.pad(x, ((0, 1), (1, 0)), constant_values=-1)") {
    KernelRunner runner(OpCode::kPad);
    runner.input({3, 4}, range_floats(1, 12)).ints({kConstant, 0, 1, 1, 0}).floats({-1.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{4, 5});
    CHECK(runner.output_values() ==
          std::vector<float>{-1, 1, 2, 3, 4, -1, 5, 6, 7, 8, -1, 9, 10, 11, 12, -1, -1, -1, -1, -1});
  }
  SUBCASE("reflect of the last two dims") {
    // np.pad(np.arange(12).reshape(1, 3, 4), ((0, 0), (1, 1), (1, 1)), 'reflect')
    KernelRunner runner(OpCode::kPad);
    runner.input({1, 3, 4}, range_floats(0, 12)).ints({kReflect, 0, 1, 1, 0, 1, 1}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{1, 5, 6});
    CHECK(runner.output_values() == std::vector<float>{5, 4, 5, 6, 7, 6, 1, 0, 1, 2, 3,  2,  5, 4, 5,
                                                       6, 7, 6, 9, 8, 9, 10, 11, 10, 5, 4, 5, 6, 7, 6});
  }
}

TEST_CASE("Pad: negative pads crop, then positive pads pad") {
  SUBCASE("crop then reflect reads only kept elements: np.pad(a[1:], (0, 2), 'reflect')") {
    KernelRunner runner(OpCode::kPad);
    runner.input({4}, {1, 2, 3, 4}).ints({kReflect, -1, 2}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{2, 3, 4, 3, 2});
  }
  SUBCASE("crop both sides of one axis, pad another: np.pad(x[:, 1:3], ((1, 0), (0, 0)))") {
    KernelRunner runner(OpCode::kPad);
    runner.input({3, 4}, range_floats(1, 12)).ints({kConstant, 1, -1, 0, -1}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{4, 2});
    CHECK(runner.output_values() == std::vector<float>{0, 0, 2, 3, 6, 7, 10, 11});
  }
  SUBCASE("crop one side, pad the other: np.pad(x[1:, :3], ((0, 1), (2, 0)), 'edge')") {
    KernelRunner runner(OpCode::kPad);
    runner.input({3, 4}, range_floats(1, 12)).ints({kEdge, -1, 2, 1, -1}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{3, 5});
    CHECK(runner.output_values() == std::vector<float>{5, 5, 5, 6, 7, 9, 9, 9, 10, 11, 9, 9, 9, 10, 11});
  }
  SUBCASE("crop everything") {
    KernelRunner runner(OpCode::kPad);
    runner.input({2}, {1, 2}).ints({kConstant, -1, -1}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0});
  }
}

TEST_CASE("Pad: integer and bool dtypes") {
  SUBCASE("int64 edge") {
    KernelRunner runner(OpCode::kPad);
    runner.input_i64({1, 3}, {-5, 0, int64_t{1} << 50}, false).ints({kEdge, 0, 1, 0, 1}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{-5, -5, 0, int64_t{1} << 50, int64_t{1} << 50});
  }
  SUBCASE("int32 constant -7") {
    KernelRunner runner(OpCode::kPad);
    runner.input_i32({2}, {1, 2}, false).ints({kConstant, 1, 2}).floats({-7.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<int32_t>() == std::vector<int32_t>{-7, 1, 2, -7, -7});
  }
  SUBCASE("int64 constant padding of a shape vector") {
    KernelRunner runner(OpCode::kPad);
    runner.input_i64({2}, {64, 48}).ints({kConstant, 2, 0}).floats({1.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{1, 1, 64, 48});
  }
  SUBCASE("bool constant true") {
    const uint8_t x[2] = {0, 0};
    KernelRunner runner(OpCode::kPad);
    runner.input_typed(DType::kBool, {2}, x, 2).ints({kConstant, 1, 0}).floats({1.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 0});
  }
  SUBCASE("uint8 reflect") {
    const uint8_t x[3] = {10, 20, 30};
    KernelRunner runner(OpCode::kPad);
    runner.input_typed(DType::kUInt8, {3}, x, 3).ints({kReflect, 2, 2}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{30, 20, 10, 20, 30, 20, 10});
  }
}

TEST_CASE("Pad: scalars, one element, empty tensors") {
  SUBCASE("rank 0 copies the scalar") {
    KernelRunner runner(OpCode::kPad);
    runner.input({}, {3.f}).ints({kConstant}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_values() == std::vector<float>{3.f});
  }
  SUBCASE("one element, edge") {
    KernelRunner runner(OpCode::kPad);
    runner.input({1, 1}, {4.f}).ints({kEdge, 1, 0, 0, 2}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 3});
    CHECK(runner.output_values() == std::vector<float>{4, 4, 4, 4, 4, 4});
  }
  SUBCASE("constant padding of an empty input is all value") {
    KernelRunner runner(OpCode::kPad);
    runner.input({2, 0}, {}).ints({kConstant, 0, 1, 0, 1}).floats({2.5f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2, 2});
    CHECK(runner.output_values() == std::vector<float>{2.5f, 2.5f, 2.5f, 2.5f});
  }
  SUBCASE("an empty input, no pads") {
    KernelRunner runner(OpCode::kPad);
    runner.input({0, 3}, {}).ints({kReflect, 0, 0, 0, 0}).floats({0.f});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0, 3});
  }
}

TEST_CASE("Pad: infer rejects malformed nodes") {
  auto infer = [](std::vector<int64_t> shape, std::vector<int64_t> ints, float value = 0.f) {
    std::vector<float> x(1, 0.f);
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    x.resize(static_cast<size_t>(count));
    KernelRunner runner(OpCode::kPad);
    runner.input(shape, x).ints(std::move(ints)).floats({value});
    return runner.infer();
  };
  CHECK(infer({3}, {kReflect, 3, 0}).code() == StatusCode::kInvalidModel);   // reflect pad == length
  CHECK(infer({4}, {kReflect, -2, 2}).code() == StatusCode::kInvalidModel);  // pad == kept length 2
  CHECK(infer({0}, {kEdge, 1, 0}).code() == StatusCode::kInvalidModel);      // edge of nothing
  CHECK(infer({3}, {3, 1, 1}).code() == StatusCode::kInvalidModel);          // unknown mode
  CHECK(infer({3}, {kConstant, -4, 0}).code() == StatusCode::kInvalidModel); // crops past the start
  CHECK(infer({3}, {kConstant, -2, -2}).code() == StatusCode::kInvalidModel); // crops overlap
  CHECK(infer({3}, {kConstant, int64_t{1} << 62, 0}).code() == StatusCode::kInvalidModel);
  CHECK(infer({3, 1}, {kConstant, 1, 1}).code() == StatusCode::kInvalidModel);  // 2 pads for rank 2
  {
    const Status status = infer({3}, {kReflect, 3, 0});
    CHECK(std::string(status.message()).find("reflect") != std::string::npos);
  }
  SUBCASE("missing value") {
    KernelRunner runner(OpCode::kPad);
    runner.input({2}, {1, 2}).ints({kConstant, 1, 1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("a value an integer tensor cannot hold") {
    KernelRunner runner(OpCode::kPad);
    runner.input_i32({2}, {1, 2}, false).ints({kConstant, 1, 1}).floats({0.5f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
    KernelRunner bytes(OpCode::kPad);
    const uint8_t x[1] = {0};
    bytes.input_typed(DType::kUInt8, {1}, x, 1).ints({kConstant, 1, 1}).floats({256.f});
    CHECK(bytes.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("constant padding of float16") {
    const uint16_t x[1] = {0x3c00};
    KernelRunner runner(OpCode::kPad);
    runner.input_typed(DType::kFloat16, {1}, x, 2).ints({kConstant, 1, 1}).floats({0.f});
    CHECK(runner.infer().code() == StatusCode::kUnsupportedOp);
  }
}

}  // namespace
}  // namespace edgegen
