#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

constexpr float kInf = std::numeric_limits<float>::infinity();

// ONNX's reduce examples: data of shape [3, 2, 2].
const std::vector<int64_t> kShape = {3, 2, 2};
const std::vector<float> kData = {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2};

struct Reduced {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

Reduced reduce(OpCode op, const std::vector<int64_t>& shape, const std::vector<float>& x, std::vector<int64_t> ints) {
  KernelRunner runner(op);
  runner.input(shape, x).ints(ints);
  Status status = runner.run();
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  return {runner.output_shape(), runner.output_values()};
}

TEST_CASE("Reduce over one axis, keepdims (ONNX *_keepdims_example)") {
  // np.mean(data, axis=1, keepdims=True) and friends
  Reduced mean = reduce(OpCode::kReduceMean, kShape, kData, {1, 1});
  CHECK(mean.shape == std::vector<int64_t>{3, 1, 2});
  CHECK(mean.values == std::vector<float>{12.5f, 1.5f, 35.f, 1.5f, 57.5f, 1.5f});
  CHECK(reduce(OpCode::kReduceSum, kShape, kData, {1, 1}).values == std::vector<float>{25, 3, 70, 3, 115, 3});
  CHECK(reduce(OpCode::kReduceMax, kShape, kData, {1, 1}).values == std::vector<float>{20, 2, 40, 2, 60, 2});
  CHECK(reduce(OpCode::kReduceMin, kShape, kData, {1, 1}).values == std::vector<float>{5, 1, 30, 1, 55, 1});
}

TEST_CASE("Reduce without keepdims drops the axes") {
  Reduced sum = reduce(OpCode::kReduceSum, kShape, kData, {0, 1});
  CHECK(sum.shape == std::vector<int64_t>{3, 2});
  CHECK(sum.values == std::vector<float>{25, 3, 70, 3, 115, 3});
  // Last axis: np.max(data, axis=2)
  Reduced max = reduce(OpCode::kReduceMax, kShape, kData, {0, 2});
  CHECK(max.shape == std::vector<int64_t>{3, 2});
  CHECK(max.values == std::vector<float>{5, 20, 30, 40, 55, 60});
}

TEST_CASE("Reduce over non-adjacent axes, in any order") {
  // np.mean(data, axis=(0, 2), keepdims=True) = [[[15.5], [21]]]
  Reduced kept = reduce(OpCode::kReduceMean, kShape, kData, {1, 0, 2});
  CHECK(kept.shape == std::vector<int64_t>{1, 2, 1});
  CHECK(kept.values == std::vector<float>{15.5f, 21.f});
  Reduced dropped = reduce(OpCode::kReduceMean, kShape, kData, {0, 2, 0});
  CHECK(dropped.shape == std::vector<int64_t>{2});
  CHECK(dropped.values == std::vector<float>{15.5f, 21.f});
  // np.min(data, axis=(0, 1))
  CHECK(reduce(OpCode::kReduceMin, kShape, kData, {0, 0, 1}).values == std::vector<float>{5, 1});
}

TEST_CASE("Reduce with no axes reduces everything") {
  Reduced kept = reduce(OpCode::kReduceSum, kShape, kData, {1});
  CHECK(kept.shape == std::vector<int64_t>{1, 1, 1});
  CHECK(kept.values == std::vector<float>{219});
  Reduced dropped = reduce(OpCode::kReduceMean, kShape, kData, {0});
  CHECK(dropped.shape.empty());
  CHECK(dropped.values == std::vector<float>{18.25f});
  // A scalar reduces to itself; so does a single element.
  Reduced scalar = reduce(OpCode::kReduceMax, {}, {-3.f}, {1});
  CHECK(scalar.shape.empty());
  CHECK(scalar.values == std::vector<float>{-3.f});
  Reduced one = reduce(OpCode::kReduceMean, {1, 1}, {7.f}, {0, 1});
  CHECK(one.shape == std::vector<int64_t>{1});
  CHECK(one.values == std::vector<float>{7.f});
}

TEST_CASE("ReduceMean of an odd-sized, non-trivially-rounded row") {
  // np.mean(np.float32([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]))
  Reduced mean = reduce(OpCode::kReduceMean, {7}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f}, {0});
  CHECK(mean.values[0] == doctest::Approx(0.4f).epsilon(1e-6));
}

TEST_CASE("ReduceMax and ReduceMin propagate NaN") {
  const float nan = std::nanf("");
  CHECK(std::isnan(reduce(OpCode::kReduceMax, {3}, {1.f, nan, 2.f}, {0}).values[0]));
  CHECK(std::isnan(reduce(OpCode::kReduceMin, {3}, {nan, 1.f, 2.f}, {0}).values[0]));
  CHECK(reduce(OpCode::kReduceMax, {2}, {-kInf, -kInf}, {0}).values[0] == -kInf);
}

TEST_CASE("Reduce over an empty axis gives the ONNX identity") {
  // ONNX (opset 18+): Sum -> 0, Max -> lowest, Min -> highest; Mean is 0 / 0.
  CHECK(reduce(OpCode::kReduceSum, {2, 0}, {}, {0, 1}).values == std::vector<float>{0, 0});
  CHECK(reduce(OpCode::kReduceMax, {2, 0}, {}, {1, 1}).values == std::vector<float>{-kInf, -kInf});
  CHECK(reduce(OpCode::kReduceMin, {2, 0}, {}, {1, 1}).values == std::vector<float>{kInf, kInf});
  Reduced mean = reduce(OpCode::kReduceMean, {0}, {}, {0});
  CHECK(mean.shape.empty());
  CHECK(std::isnan(mean.values[0]));

  KernelRunner int_max(OpCode::kReduceMax);
  int_max.input_i64({0, 2}, {}, false).ints({0, 0});
  REQUIRE(int_max.run().is_ok());
  CHECK(int_max.output_as<int64_t>() ==
        std::vector<int64_t>{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()});

  // Empty kept axes: nothing to compute.
  Reduced nothing = reduce(OpCode::kReduceMax, {0, 3}, {}, {0, 1});
  CHECK(nothing.shape == std::vector<int64_t>{0});
}

TEST_CASE("ReduceSum/Max/Min on int32 and int64") {
  KernelRunner sum(OpCode::kReduceSum);
  sum.input_i64({2, 3}, {1, 2, 3, 4, 5, int64_t{1} << 40}, false).ints({0, 1});
  REQUIRE(sum.run().is_ok());
  CHECK(sum.output().dtype == DType::kInt64);
  CHECK(sum.output_as<int64_t>() == std::vector<int64_t>{6, 9 + (int64_t{1} << 40)});

  KernelRunner max(OpCode::kReduceMax);
  max.input_i32({2, 3}, {1, -2, 3, -4, -5, -6}, false).ints({1, 0});
  REQUIRE(max.run().is_ok());
  CHECK(max.output_shape() == std::vector<int64_t>{1, 3});
  CHECK(max.output_as<int32_t>() == std::vector<int32_t>{1, -2, 3});

  KernelRunner min(OpCode::kReduceMin);
  min.input_i32({2, 3}, {1, -2, 3, -4, -5, -6}, false).ints({0});
  REQUIRE(min.run().is_ok());
  CHECK(min.output_as<int32_t>() == std::vector<int32_t>{-6});
}

TEST_CASE("Reduce infer rejects malformed nodes") {
  SUBCASE("axis out of range") {
    KernelRunner runner(OpCode::kReduceSum);
    runner.input(kShape, kData).ints({1, 3});
    Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::strstr(status.message(), "ReduceSum 'test'") != nullptr);
  }
  SUBCASE("negative axis (the converter normalizes axes)") {
    KernelRunner runner(OpCode::kReduceMean);
    runner.input(kShape, kData).ints({1, -1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("axis listed twice") {
    KernelRunner runner(OpCode::kReduceMax);
    runner.input(kShape, kData).ints({1, 1, 1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("more axes than dims") {
    KernelRunner runner(OpCode::kReduceMin);
    runner.input({2}, {1, 2}).ints({1, 0, 0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("keepdims not 0 or 1") {
    KernelRunner runner(OpCode::kReduceSum);
    runner.input({2}, {1, 2}).ints({2, 0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("no keepdims") {
    KernelRunner runner(OpCode::kReduceSum);
    runner.input({2}, {1, 2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("a float attribute") {
    KernelRunner runner(OpCode::kReduceSum);
    runner.input({2}, {1, 2}).ints({1}).floats({0.f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("ReduceMean on integers") {
    KernelRunner runner(OpCode::kReduceMean);
    runner.input_i64({2}, {1, 2}, false).ints({1});
    CHECK(runner.infer().code() == StatusCode::kUnsupportedOp);
  }
  SUBCASE("uint8 input") {
    const uint8_t values[] = {1, 2};
    KernelRunner runner(OpCode::kReduceSum);
    runner.input_typed(DType::kUInt8, {2}, values, sizeof values).ints({1});
    CHECK(runner.infer().code() == StatusCode::kUnsupportedOp);
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kReduceSum);
    runner.input({2}, {1, 2}).ints({1}).activation(ActivationKind::kRelu);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
