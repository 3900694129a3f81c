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

// Relative error 1e-5 plus absolute 1e-7.
void check_close(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    CHECK(std::fabs(actual[i] - expected[i]) <= 1e-7f + 1e-5f * std::fabs(expected[i]));
  }
}

std::vector<float> run(OpCode op, std::vector<int64_t> shape, std::vector<float> x, int64_t begin, int64_t end) {
  KernelRunner runner(op);
  runner.input(shape, x).ints({begin, end});
  Status status = runner.run();
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  CHECK(runner.output_shape() == shape);
  return runner.output_values();
}

// x = np.float32([0.5, -1, 2, 0, 3, 1, -2, 0.25, 1.5, -0.5, 1, 2]).reshape(2, 3, 2)
// softmax(x, axis) = e / e.sum(axis, keepdims=True) with e = np.exp(x - x.max(axis, keepdims=True))
// log_softmax(x, axis) = t - np.log(np.exp(t).sum(axis, keepdims=True)) with t = x - x.max(axis, keepdims=True)
const std::vector<float> kX = {0.5f, -1.f, 2.f, 0.f, 3.f, 1.f, -2.f, 0.25f, 1.5f, -0.5f, 1.f, 2.f};

TEST_CASE("Softmax over the last axis is stable for large inputs (ONNX test_softmax_large_number)") {
  check_close(run(OpCode::kSoftmax, {2, 4}, {0, 1, 2, 3, 10000, 10001, 10002, 10003}, 1, 2),
              {0.032058604f, 0.087144323f, 0.23688281f, 0.64391428f, 0.032058604f, 0.087144323f, 0.23688281f,
               0.64391428f});
  check_close(run(OpCode::kLogSoftmax, {2, 4}, {0, 1, 2, 3, 10000, 10001, 10002, 10003}, 1, 2),
              {-3.4401896f, -2.4401896f, -1.4401896f, -0.44018966f, -3.4401896f, -2.4401896f, -1.4401896f,
               -0.44018966f});
}

TEST_CASE("Softmax over a middle axis (strided rows)") {
  // softmax(x, 1)
  check_close(run(OpCode::kSoftmax, {2, 3, 2}, kX, 1, 2),
              {0.056611739f, 0.090030573f, 0.25371617f, 0.24472846f, 0.68967211f, 0.66524094f, 0.018449849f,
               0.1383706f, 0.61097503f, 0.065361649f, 0.3705751f, 0.79626781f});
  // log_softmax(x, 1)
  check_close(run(OpCode::kLogSoftmax, {2, 3, 2}, kX, 1, 2),
              {-2.8715391f, -2.4076061f, -1.371539f, -1.407606f, -0.371539f, -0.40760601f, -3.9926991f, -1.9778197f,
               -0.49269915f, -2.7278197f, -0.99269915f, -0.22781971f});
  // softmax(x, 0)
  check_close(run(OpCode::kSoftmax, {2, 3, 2}, kX, 0, 1),
              {0.92414182f, 0.22270013f, 0.62245935f, 0.62245935f, 0.88079703f, 0.2689414f, 0.075858183f, 0.77729988f,
               0.37754068f, 0.37754068f, 0.11920292f, 0.7310586f});
}

TEST_CASE("Softmax over several contiguous dims (opset < 13 flattening)") {
  // softmax(x.reshape(2, 6), 1)
  check_close(run(OpCode::kSoftmax, {2, 3, 2}, kX, 1, 3),
              {0.049646113f, 0.011077545f, 0.22249842f, 0.030111887f, 0.6048134f, 0.081852593f, 0.0081454078f,
               0.077281475f, 0.26973885f, 0.036505185f, 0.16360487f, 0.44472417f});
  // log_softmax(x.reshape(2, 6), 1)
  check_close(run(OpCode::kLogSoftmax, {2, 3, 2}, kX, 1, 3),
              {-3.0028353f, -4.5028353f, -1.5028353f, -3.5028353f, -0.50283527f, -2.5028353f, -4.8103008f, -2.5603011f,
               -1.3103011f, -3.3103011f, -1.8103011f, -0.81030101f});
  // Over the whole tensor, the rows sum to one.
  std::vector<float> all = run(OpCode::kSoftmax, {2, 3, 2}, kX, 0, 3);
  float sum = 0.f;
  for (float v : all) sum += v;
  CHECK(sum == doctest::Approx(1.f).epsilon(1e-6));
}

TEST_CASE("Softmax corners: one element, -inf entries, empty tensors") {
  check_close(run(OpCode::kSoftmax, {1}, {42.f}, 0, 1), {1.f});
  check_close(run(OpCode::kLogSoftmax, {1, 1}, {-42.f}, 1, 2), {0.f});
  // exp(-inf) contributes nothing.
  check_close(run(OpCode::kSoftmax, {3}, {-kInf, 0.f, 0.f}, 0, 1), {0.f, 0.5f, 0.5f});
  std::vector<float> log = run(OpCode::kLogSoftmax, {2}, {-kInf, 0.f}, 0, 1);
  CHECK(log[0] == -kInf);
  CHECK(log[1] == 0.f);
  // An odd-sized row.
  check_close(run(OpCode::kSoftmax, {5}, {1, 1, 1, 1, 1}, 0, 1), {0.2f, 0.2f, 0.2f, 0.2f, 0.2f});

  KernelRunner no_rows(OpCode::kSoftmax);
  no_rows.input({0, 3}, {}).ints({1, 2});
  REQUIRE(no_rows.run().is_ok());
  CHECK(no_rows.output_shape() == std::vector<int64_t>{0, 3});
  KernelRunner empty_rows(OpCode::kLogSoftmax);
  empty_rows.input({2, 0}, {}).ints({1, 2});
  REQUIRE(empty_rows.run().is_ok());
  CHECK(empty_rows.output_shape() == std::vector<int64_t>{2, 0});
}

TEST_CASE("Softmax infer rejects malformed nodes") {
  SUBCASE("empty axis range") {
    KernelRunner runner(OpCode::kSoftmax);
    runner.input({2, 3}, std::vector<float>(6)).ints({1, 1});
    Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::strstr(status.message(), "Softmax 'test'") != nullptr);
  }
  SUBCASE("end past the rank") {
    KernelRunner runner(OpCode::kSoftmax);
    runner.input({2, 3}, std::vector<float>(6)).ints({1, 3});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("negative begin (the converter normalizes axes)") {
    KernelRunner runner(OpCode::kLogSoftmax);
    runner.input({2, 3}, std::vector<float>(6)).ints({-1, 2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("scalar input has no axis") {
    KernelRunner runner(OpCode::kSoftmax);
    runner.input({}, {1.f}).ints({0, 1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("one int") {
    KernelRunner runner(OpCode::kSoftmax);
    runner.input({2}, {1.f, 2.f}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("integer input") {
    KernelRunner runner(OpCode::kSoftmax);
    runner.input_i64({2}, {1, 2}, false).ints({0, 1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kLogSoftmax);
    runner.input({2}, {1.f, 2.f}).ints({0, 1}).activation(ActivationKind::kRelu);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
