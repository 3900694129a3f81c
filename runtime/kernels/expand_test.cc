#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("Expand adds and repeats dims (ONNX test_expand_dim_changed)") {
  // np.float32([[1], [2], [3]]) * np.ones([2, 1, 6]) -> shape [2, 3, 6]
  KernelRunner runner(OpCode::kExpand);
  runner.input({3, 1}, {1, 2, 3}).ints({2, 3, 6});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape() == std::vector<int64_t>{2, 3, 6});
  std::vector<float> expected;
  for (int copy = 0; copy < 2; ++copy)
    for (float v : {1.f, 2.f, 3.f})
      for (int i = 0; i < 6; ++i) expected.push_back(v);
  CHECK(runner.output_values() == expected);
}

TEST_CASE("Expand keeps the rank (ONNX test_expand_dim_unchanged) and repeats leading dims") {
  KernelRunner columns(OpCode::kExpand);
  columns.input({3, 1}, {1, 2, 3}).ints({3, 4});
  REQUIRE(columns.run().is_ok());
  CHECK(columns.output_values() == std::vector<float>{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});

  KernelRunner rows(OpCode::kExpand);
  rows.input({1, 3}, {1, 2, 3}).ints({2, 3});
  REQUIRE(rows.run().is_ok());
  CHECK(rows.output_values() == std::vector<float>{1, 2, 3, 1, 2, 3});

  KernelRunner same(OpCode::kExpand);
  same.input({2, 2}, {1, 2, 3, 4}).ints({2, 2});
  REQUIRE(same.run().is_ok());
  CHECK(same.output_values() == std::vector<float>{1, 2, 3, 4});
}

TEST_CASE("Expand a scalar or one element") {
  KernelRunner scalar(OpCode::kExpand);
  scalar.input({}, {7}).ints({2, 3});
  REQUIRE(scalar.run().is_ok());
  CHECK(scalar.output_shape() == std::vector<int64_t>{2, 3});
  CHECK(scalar.output_values() == std::vector<float>(6, 7.f));

  KernelRunner to_scalar(OpCode::kExpand);
  to_scalar.input({}, {7}).ints({});
  REQUIRE(to_scalar.run().is_ok());
  CHECK(to_scalar.output_shape().empty());
  CHECK(to_scalar.output_values() == std::vector<float>{7});
}

TEST_CASE("Expand copies any dtype") {
  KernelRunner i64(OpCode::kExpand);
  i64.input_i64({2, 1}, {int64_t{1} << 40, -1}, false).ints({2, 3});
  REQUIRE(i64.run().is_ok());
  CHECK(i64.output().dtype == DType::kInt64);
  CHECK(i64.output_as<int64_t>() ==
        std::vector<int64_t>{int64_t{1} << 40, int64_t{1} << 40, int64_t{1} << 40, -1, -1, -1});

  const uint16_t halves[] = {0x3c00, 0xc000};
  KernelRunner f16(OpCode::kExpand);
  f16.input_typed(DType::kFloat16, {2}, halves, sizeof halves).ints({3, 2});
  REQUIRE(f16.run().is_ok());
  CHECK(f16.output().dtype == DType::kFloat16);
  CHECK(f16.output_as<uint16_t>() == std::vector<uint16_t>{0x3c00, 0xc000, 0x3c00, 0xc000, 0x3c00, 0xc000});

  const uint8_t flags[] = {1, 0, 1};
  KernelRunner bools(OpCode::kExpand);
  bools.input_typed(DType::kBool, {3, 1}, flags, sizeof flags).ints({1, 3, 2});
  REQUIRE(bools.run().is_ok());
  CHECK(bools.output_as<uint8_t>() == std::vector<uint8_t>{1, 1, 0, 0, 1, 1});
}

TEST_CASE("Expand to rank 8 and with empty dims") {
  // [2, 1, 3] -> [1, 2, 1, 1, 2, 2, 2, 3]: out[..., i, j, k] = in[i, 0, k] (last three dims).
  const std::vector<float> in = {1, 2, 3, 4, 5, 6};
  KernelRunner rank8(OpCode::kExpand);
  rank8.input({2, 1, 3}, in).ints({1, 2, 1, 1, 2, 2, 2, 3});
  REQUIRE(rank8.run().is_ok());
  std::vector<float> out = rank8.output_values();
  REQUIRE(out.size() == 48);
  for (size_t o = 0; o < out.size(); ++o) {
    const size_t k = o % 3, i = (o / 6) % 2;
    CAPTURE(o);
    CHECK(out[o] == in[i * 3 + k]);
  }

  KernelRunner zero_from_one(OpCode::kExpand);
  zero_from_one.input({1, 3}, {1, 2, 3}).ints({0, 3});
  REQUIRE(zero_from_one.run().is_ok());
  CHECK(zero_from_one.output_shape() == std::vector<int64_t>{0, 3});

  KernelRunner empty_input(OpCode::kExpand);
  empty_input.input({0}, {}).ints({2, 0});
  REQUIRE(empty_input.run().is_ok());
  CHECK(empty_input.output_shape() == std::vector<int64_t>{2, 0});
}

TEST_CASE("Expand infer rejects malformed nodes") {
  SUBCASE("input does not broadcast to the shape") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({3}, {1, 2, 3}).ints({2, 4});
    Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::strstr(status.message(), "Expand 'test'") != nullptr);
    CHECK(std::strstr(status.message(), "[2, 4]") != nullptr);
  }
  SUBCASE("shape of lower rank than the input (the converter resolves ONNX's broadcast)") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({2, 3}, std::vector<float>(6)).ints({3});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("a 1 in the shape where the input is larger") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({3, 1}, {1, 2, 3}).ints({1, 4});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("zero dim where the input has 2") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({2}, {1, 2}).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("negative dim") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({1}, {1}).ints({-1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("rank above the maximum") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({1}, {1}).ints({1, 1, 1, 1, 1, 1, 1, 1, 2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("a float attribute") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({1}, {1}).ints({2}).floats({1.f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("two inputs") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({1}, {1}).input_i64({1}, {2}).ints({2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("unknown dtype") {
    const float value = 1.f;
    KernelRunner runner(OpCode::kExpand);
    runner.input_typed(static_cast<DType>(12), {1}, &value, sizeof value).ints({2});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kExpand);
    runner.input({1}, {1}).ints({2}).activation(ActivationKind::kRelu);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
