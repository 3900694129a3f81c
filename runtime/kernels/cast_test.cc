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
const float kNaN = std::nanf("");

// Casts a 1-D tensor of `From` values to `to` and returns the output elements.
template <typename To, typename From>
std::vector<To> cast(DType from, DType to, const std::vector<From>& values) {
  KernelRunner runner(OpCode::kCast);
  runner.input_typed(from, {static_cast<int64_t>(values.size())}, values.data(), values.size() * sizeof(From))
      .ints({static_cast<int64_t>(to)});
  Status status = runner.run();
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  REQUIRE(runner.output().dtype == to);
  REQUIRE(runner.output_shape() == std::vector<int64_t>{static_cast<int64_t>(values.size())});
  return runner.output_as<To>();
}

TEST_CASE("Cast f32 <-> f16: round to nearest even, subnormals, inf, NaN") {
  // np.float32(x).astype(np.float16).view(np.uint16)
  CHECK(cast<uint16_t>(DType::kFloat32, DType::kFloat16,
                       std::vector<float>{1.f, 0.1f, -2.f, 65504.f, 65520.f, -kInf, 5.960464477539063e-08f,
                                          2.9802322387695312e-08f, 1.00048828125f, -0.f}) ==
        std::vector<uint16_t>{0x3c00, 0x2e66, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x0001, 0x0000, 0x3c00, 0x8000});
  const std::vector<uint16_t> nan = cast<uint16_t>(DType::kFloat32, DType::kFloat16, std::vector<float>{kNaN});
  CHECK((nan[0] & 0x7c00) == 0x7c00);
  CHECK((nan[0] & 0x03ff) != 0);

  // np.uint16([...]).view(np.float16).astype(np.float32)
  const std::vector<float> back = cast<float>(
      DType::kFloat16, DType::kFloat32, std::vector<uint16_t>{0x0001, 0x03ff, 0x0400, 0x3555, 0x7bff, 0xfc00, 0x7e00});
  CHECK(back[0] == 5.960464477539063e-08f);
  CHECK(back[1] == 6.097555160522461e-05f);
  CHECK(back[2] == 6.103515625e-05f);
  CHECK(back[3] == 0.333251953125f);
  CHECK(back[4] == 65504.f);
  CHECK(back[5] == -kInf);
  CHECK(std::isnan(back[6]));
}

TEST_CASE("Cast float -> int truncates toward zero and saturates") {
  CHECK(cast<int32_t>(DType::kFloat32, DType::kInt32,
                      std::vector<float>{-2.7f, -0.5f, 0.5f, 2.7f, 1e10f, -1e10f, kNaN, kInf, -kInf,
                                         2147483520.f}) ==
        std::vector<int32_t>{-2, 0, 0, 2, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 0,
                             std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 2147483520});
  CHECK(cast<uint8_t>(DType::kFloat32, DType::kUInt8, std::vector<float>{-1.f, -0.9f, 3.9f, 255.9f, 256.f}) ==
        std::vector<uint8_t>{0, 0, 3, 255, 255});
  CHECK(cast<int8_t>(DType::kFloat32, DType::kInt8, std::vector<float>{127.5f, 128.f, -128.9f, -129.f}) ==
        std::vector<int8_t>{127, 127, -128, -128});
  // 2^62 is exact; 2^63 and beyond saturate; -2^63 is the minimum itself.
  CHECK(cast<int64_t>(DType::kFloat32, DType::kInt64, std::vector<float>{4.611686e18f, 9.3e18f, -9.3e18f, -9.223372e18f}) ==
        std::vector<int64_t>{int64_t{1} << 62, std::numeric_limits<int64_t>::max(),
                             std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()});
  // f16 goes through f32: 255.0 (0x5bf8) saturates in int8, -1.5 (0xbe00) in uint8.
  CHECK(cast<int8_t>(DType::kFloat16, DType::kInt8, std::vector<uint16_t>{0x5bf8, 0xbe00}) ==
        std::vector<int8_t>{127, -1});
  CHECK(cast<uint8_t>(DType::kFloat16, DType::kUInt8, std::vector<uint16_t>{0x5bf8, 0xbe00}) ==
        std::vector<uint8_t>{255, 0});
}

TEST_CASE("Cast int -> int wraps like NumPy astype") {
  // np.int64([2**32 + 5, -1, 2**31]).astype(np.int32)
  CHECK(cast<int32_t>(DType::kInt64, DType::kInt32, std::vector<int64_t>{(int64_t{1} << 32) + 5, -1, int64_t{1} << 31}) ==
        std::vector<int32_t>{5, -1, std::numeric_limits<int32_t>::min()});
  CHECK(cast<uint8_t>(DType::kInt32, DType::kUInt8, std::vector<int32_t>{263, -1}) == std::vector<uint8_t>{7, 255});
  CHECK(cast<int8_t>(DType::kUInt8, DType::kInt8, std::vector<uint8_t>{200, 5}) == std::vector<int8_t>{-56, 5});
  CHECK(cast<int64_t>(DType::kInt8, DType::kInt64, std::vector<int8_t>{-128, 127}) == std::vector<int64_t>{-128, 127});
}

TEST_CASE("Cast int -> float rounds to nearest") {
  // 2^24 + 1 is not a float: rounds to even (2^24).
  CHECK(cast<float>(DType::kInt64, DType::kFloat32, std::vector<int64_t>{16777217, -3, int64_t{1} << 40}) ==
        std::vector<float>{16777216.f, -3.f, 1099511627776.f});
  // np.int32([65504, 65519, 65520, -3]).astype(np.float16).view(np.uint16)
  CHECK(cast<uint16_t>(DType::kInt32, DType::kFloat16, std::vector<int32_t>{65504, 65519, 65520, -3}) ==
        std::vector<uint16_t>{0x7bff, 0x7bff, 0x7c00, 0xc200});
  CHECK(cast<uint16_t>(DType::kInt64, DType::kFloat16, std::vector<int64_t>{std::numeric_limits<int64_t>::min()}) ==
        std::vector<uint16_t>{0xfc00});
}

TEST_CASE("Cast to and from bool") {
  CHECK(cast<uint8_t>(DType::kFloat32, DType::kBool, std::vector<float>{0.f, -0.f, 0.5f, kNaN, -kInf}) ==
        std::vector<uint8_t>{0, 0, 1, 1, 1});
  CHECK(cast<uint8_t>(DType::kFloat16, DType::kBool, std::vector<uint16_t>{0x8000, 0x0001, 0x7e00}) ==
        std::vector<uint8_t>{0, 1, 1});
  CHECK(cast<uint8_t>(DType::kInt64, DType::kBool, std::vector<int64_t>{0, 2, -1, int64_t{1} << 40}) ==
        std::vector<uint8_t>{0, 1, 1, 1});
  // Any nonzero byte in a bool tensor reads as true.
  CHECK(cast<float>(DType::kBool, DType::kFloat32, std::vector<uint8_t>{0, 1, 2}) == std::vector<float>{0, 1, 1});
  CHECK(cast<uint16_t>(DType::kBool, DType::kFloat16, std::vector<uint8_t>{0, 1}) ==
        std::vector<uint16_t>{0x0000, 0x3c00});
  CHECK(cast<int64_t>(DType::kBool, DType::kInt64, std::vector<uint8_t>{1, 0, 255}) == std::vector<int64_t>{1, 0, 1});
  CHECK(cast<uint8_t>(DType::kBool, DType::kBool, std::vector<uint8_t>{0, 7}) == std::vector<uint8_t>{0, 1});
}

TEST_CASE("Cast to the same dtype copies") {
  CHECK(cast<float>(DType::kFloat32, DType::kFloat32, std::vector<float>{1.5f, -kInf}) ==
        std::vector<float>{1.5f, -kInf});
  CHECK(cast<int64_t>(DType::kInt64, DType::kInt64, std::vector<int64_t>{std::numeric_limits<int64_t>::min()}) ==
        std::vector<int64_t>{std::numeric_limits<int64_t>::min()});
}

TEST_CASE("Cast keeps the shape: scalar, odd sizes, empty") {
  const float scalar = -7.9f;
  KernelRunner runner(OpCode::kCast);
  runner.input_typed(DType::kFloat32, {}, &scalar, sizeof scalar).ints({static_cast<int64_t>(DType::kInt32)});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_shape().empty());
  CHECK(runner.output_as<int32_t>() == std::vector<int32_t>{-7});

  const int32_t odd[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  KernelRunner odd_runner(OpCode::kCast);
  odd_runner.input_typed(DType::kInt32, {5, 1, 3}, odd, sizeof odd).ints({static_cast<int64_t>(DType::kFloat16)});
  REQUIRE(odd_runner.run().is_ok());
  CHECK(odd_runner.output_shape() == std::vector<int64_t>{5, 1, 3});
  CHECK(odd_runner.output_as<uint16_t>()[14] == 0x4b80);  // 15.0 in f16

  KernelRunner empty(OpCode::kCast);
  empty.input({3, 0}, {}).ints({static_cast<int64_t>(DType::kInt64)});
  REQUIRE(empty.run().is_ok());
  CHECK(empty.output().dtype == DType::kInt64);
  CHECK(empty.output_shape() == std::vector<int64_t>{3, 0});
}

TEST_CASE("Cast infer rejects malformed nodes") {
  SUBCASE("target dtype out of range") {
    KernelRunner runner(OpCode::kCast);
    runner.input({1}, {1.f}).ints({7});
    Status status = runner.infer();
    CHECK(status.code() == StatusCode::kInvalidModel);
    CHECK(std::strstr(status.message(), "Cast 'test'") != nullptr);
  }
  SUBCASE("negative target dtype") {
    KernelRunner runner(OpCode::kCast);
    runner.input({1}, {1.f}).ints({-1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("no target") {
    KernelRunner runner(OpCode::kCast);
    runner.input({1}, {1.f});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("two targets") {
    KernelRunner runner(OpCode::kCast);
    runner.input({1}, {1.f}).ints({0, 1});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("unknown input dtype") {
    const float value = 1.f;
    KernelRunner runner(OpCode::kCast);
    runner.input_typed(static_cast<DType>(9), {1}, &value, sizeof value).ints({0});
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
  SUBCASE("fused activation") {
    KernelRunner runner(OpCode::kCast);
    runner.input({1}, {1.f}).ints({0}).activation(ActivationKind::kTanh);
    CHECK(runner.infer().code() == StatusCode::kInvalidModel);
  }
}

}  // namespace
}  // namespace edgegen
