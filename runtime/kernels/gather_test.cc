// Gather (ONNX Gather): out = data.shape[:axis] + indices.shape +
// data.shape[axis+1:], negative indices counting from the end.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

bool contains(const Status& status, const char* text) {
  return std::string(status.message()).find(text) != std::string::npos;
}

TEST_CASE("Gather: ONNX test_gather_negative_indices") {
  KernelRunner runner(OpCode::kGather);
  runner.input({10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}).input_i64({3}, {0, -9, -10}).ints({0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{3});
  CHECK(runner.output_values() == std::vector<float>{0, 1, 0});
}

TEST_CASE("Gather: 2-D indices along axis 1") {
  // np.take([[0, 1, 2], [3, 4, 5]], [[0, 2], [1, 0]], axis=1)
  KernelRunner runner(OpCode::kGather);
  runner.input({2, 3}, {0, 1, 2, 3, 4, 5}).input_i64({2, 2}, {0, 2, 1, 0}).ints({1});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{2, 2, 2});
  CHECK(runner.output_values() == std::vector<float>{0, 2, 1, 0, 3, 5, 4, 3});
}

TEST_CASE("Gather: rows along axis 0 with non-constant int32 indices") {
  // np.take(np.arange(6).reshape(3, 2), [2, 0, 2], axis=0)
  KernelRunner runner(OpCode::kGather);
  runner.input({3, 2}, {0, 1, 2, 3, 4, 5}).input_i32({3}, {2, 0, -1}, false).ints({0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{3, 2});
  CHECK(runner.output_values() == std::vector<float>{4, 5, 0, 1, 4, 5});
}

TEST_CASE("Gather: a scalar index drops the axis") {
  SUBCASE("float rows") {
    KernelRunner runner(OpCode::kGather);
    runner.input({3, 2}, {0, 1, 2, 3, 4, 5}).input_i64({}, {1}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2});
    CHECK(runner.output_values() == std::vector<float>{2, 3});
  }
  SUBCASE("int64 shape[1] (constant folding of shapes)") {
    KernelRunner runner(OpCode::kGather);
    runner.input_i64({4}, {1, 3, 64, 48}).input_i64({}, {1}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape().empty());
    CHECK(runner.output(0).dtype == DType::kInt64);
    CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{3});
  }
  SUBCASE("uint8 along the last axis") {
    const uint8_t data[6] = {10, 11, 12, 13, 14, 15};
    KernelRunner runner(OpCode::kGather);
    runner.input_typed(DType::kUInt8, {2, 3}, data, 6).input_i32({}, {-1}).ints({1});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{2});
    CHECK(runner.output_as<uint8_t>() == std::vector<uint8_t>{12, 15});
  }
}

TEST_CASE("Gather: empty indices and empty data") {
  SUBCASE("no indices") {
    KernelRunner runner(OpCode::kGather);
    runner.input({3, 2}, {0, 1, 2, 3, 4, 5}).input_i64({0}, {}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0, 2});
  }
  SUBCASE("zero-length axis with no indices") {
    KernelRunner runner(OpCode::kGather);
    runner.input({0, 3}, {}).input_i64({0}, {}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{0, 3});
  }
  SUBCASE("empty slices") {
    KernelRunner runner(OpCode::kGather);
    runner.input({2, 0}, {}).input_i64({1}, {1}).ints({0});
    REQUIRE(runner.run().is_ok());
    CHECK(runner.output_shape() == std::vector<int64_t>{1, 0});
  }
}

TEST_CASE("Gather: out-of-range indices are errors, never reads") {
  SUBCASE("constant index: infer rejects it") {
    KernelRunner runner(OpCode::kGather);
    runner.input({3}, {0, 1, 2}).input_i64({2}, {1, 3}).ints({0});
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(contains(status, "index 3 at position 1"));
  }
  SUBCASE("constant index below -n") {
    KernelRunner runner(OpCode::kGather);
    runner.input({3}, {0, 1, 2}).input_i32({1}, {-4}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("computed index: infer accepts, eval fails naming it") {
    KernelRunner runner(OpCode::kGather);
    runner.input({3, 2}, {0, 1, 2, 3, 4, 5}).input_i64({2, 2}, {0, 1, 2, 5}, false).ints({0});
    REQUIRE(runner.infer().is_ok());
    const Status status = runner.run();
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(contains(status, "index 5 at position 3"));
  }
  SUBCASE("computed int32 index into a zero-length axis") {
    KernelRunner runner(OpCode::kGather);
    runner.input({0}, {}).input_i32({1}, {0}, false).ints({0});
    CHECK(runner.run().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Gather: infer rejects malformed nodes") {
  SUBCASE("float indices") {
    KernelRunner runner(OpCode::kGather);
    runner.input({3}, {0, 1, 2}).input({1}, {1}, true).ints({0});
    const Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(contains(status, "int32 or int64"));
  }
  SUBCASE("axis out of range") {
    KernelRunner runner(OpCode::kGather);
    runner.input({3}, {0, 1, 2}).input_i64({1}, {0}).ints({1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("scalar data") {
    KernelRunner runner(OpCode::kGather);
    runner.input({}, {1}).input_i64({}, {0}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("output rank above the maximum") {
    KernelRunner runner(OpCode::kGather);
    runner.input({1, 1, 1, 1, 1}, {1}).input_i64({1, 1, 1, 1, 1}, {0}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("missing axis") {
    KernelRunner runner(OpCode::kGather);
    runner.input({3}, {0, 1, 2}).input_i64({1}, {0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
