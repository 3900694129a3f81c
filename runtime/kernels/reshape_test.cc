// Reshape: ints = the explicit output shape; the bytes are copied unchanged.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("Reshape: float32 to several shapes of the same count") {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{3, 2}, {6}, {1, 6, 1}, {1, 1, 1, 1, 1, 1, 2, 3}}) {
    CAPTURE(shape.size());
    KernelRunner runner(OpCode::kReshape);
    runner.input({2, 3}, x).ints(shape);
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == shape);
    CHECK(runner.output(0).dtype == DType::kFloat32);
    CHECK(runner.output_values() == x);
  }
}

TEST_CASE("Reshape: int64, int32 and bool keep their dtype and bytes") {
  SUBCASE("int64 (constant folding of shapes)") {
    KernelRunner runner(OpCode::kReshape);
    runner.input_i64({4}, {1, -2, int64_t{1} << 40, 7}).ints({2, 2});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output(0).dtype == DType::kInt64);
    CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{1, -2, int64_t{1} << 40, 7});
  }
  SUBCASE("int32") {
    KernelRunner runner(OpCode::kReshape);
    runner.input_i32({1, 3}, {9, -8, 7}, false).ints({3, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output(0).dtype == DType::kInt32);
    CHECK(runner.output_as<int32_t>() == std::vector<int32_t>{9, -8, 7});
  }
  SUBCASE("bool") {
    const uint8_t x[3] = {1, 0, 1};
    KernelRunner runner(OpCode::kReshape);
    runner.input_typed(DType::kBool, {3}, x, 3).ints({1, 3});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output(0).dtype == DType::kBool);
    CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{1, 0, 1});
  }
}

TEST_CASE("Reshape: scalars and empty tensors") {
  SUBCASE("[1] to a scalar") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({1}, {4.5f}).ints({});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape().empty());
    CHECK(runner.output_values() == std::vector<float>{4.5f});
  }
  SUBCASE("a scalar to [1, 1]") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({}, {-1.f}).ints({1, 1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{1, 1});
    CHECK(runner.output_values() == std::vector<float>{-1.f});
  }
  SUBCASE("[0, 3] to [3, 0, 5]") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({0, 3}, {}).ints({3, 0, 5});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{3, 0, 5});
  }
}

TEST_CASE("Reshape: the output may alias the input") {
  // What a memory plan that reuses the input's slot for the output does.
  float buffer[6] = {1, 2, 3, 4, 5, 6};
  Tensor input, output;
  input.name = "x";
  input.shape.rank = 2;
  input.shape.dims[0] = 2;
  input.shape.dims[1] = 3;
  input.data = buffer;
  output.name = "y";
  const Tensor* inputs[] = {&input};
  Tensor* outputs[] = {&output};
  const int64_t ints[] = {3, 2};
  KernelContext context;
  context.opcode = static_cast<uint32_t>(OpCode::kReshape);
  context.inputs = inputs;
  context.num_inputs = 1;
  context.outputs = outputs;
  context.num_outputs = 1;
  context.attributes.ints = ints;
  context.attributes.num_ints = 2;
  const Kernel* kernel = find_reference_kernel(context.opcode);
  REQUIRE(kernel->infer(context).is_ok());
  output.data = buffer;
  REQUIRE(kernel->eval(context).is_ok());
  CHECK(output.shape.rank == 2);
  CHECK(std::vector<float>(buffer, buffer + 6) == std::vector<float>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("Reshape: infer rejects malformed nodes") {
  SUBCASE("element counts differ") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({2, 3}, {1, 2, 3, 4, 5, 6}).ints({4, 2});
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::string(status.message()).find("[2, 3]") != std::string::npos);
  }
  SUBCASE("an unresolved -1") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({2, 3}, {1, 2, 3, 4, 5, 6}).ints({-1, 3});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("huge dims whose product would overflow") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({2, 3}, {1, 2, 3, 4, 5, 6}).ints({int64_t{1} << 62, int64_t{1} << 62, 4});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("a zero dim for a non-empty input") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({2}, {1, 2}).ints({2, 0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("rank above the maximum") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({1}, {1}).ints({1, 1, 1, 1, 1, 1, 1, 1, 1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("two inputs (ONNX's shape tensor must be folded into ints)") {
    KernelRunner runner(OpCode::kReshape);
    runner.input({2}, {1, 2}).input_i64({1}, {2}).ints({2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
