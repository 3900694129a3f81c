#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/kernel_util.h"

namespace edgegen {
namespace {

float from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

uint32_t to_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

Shape make_shape(std::initializer_list<int64_t> dims) {
  Shape shape;
  for (int64_t dim : dims) shape.dims[shape.rank++] = dim;
  return shape;
}

TEST_CASE("float_to_half rounds to nearest even, incl. subnormals, inf and NaN") {
  // np.float32(v).astype(np.float16).view(np.uint16) for each v
  // (also checked exhaustively over all 2^32 floats against x86 F16C).
  struct Case {
    float value;
    uint16_t bits;
  };
  const Case cases[] = {
      {1.f, 0x3c00},
      {0.1f, 0x2e66},
      {1.f / 3.f, 0x3555},
      {-2.f, 0xc000},
      {-0.f, 0x8000},
      {65504.f, 0x7bff},                       // largest half
      {65519.99f, 0x7bff},                     // just below the rounding boundary
      {65520.f, 0x7c00},                       // rounds up to inf
      {-std::numeric_limits<float>::infinity(), 0xfc00},
      {1.00048828125f, 0x3c00},                // 1 + 2^-11: tie, to even (down)
      {1.00146484375f, 0x3c02},                // 1 + 3 * 2^-11: tie, to even (up)
      {6.103515625e-05f, 0x0400},              // 2^-14, smallest normal
      {6.1005353927612305e-05f, 0x0400},       // 2^-14 - 2^-25 rounds up into the normals
      {5.960464477539063e-08f, 0x0001},        // 2^-24, smallest subnormal
      {2.9802322387695312e-08f, 0x0000},       // 2^-25: tie, to even (zero)
      {4.470348358154297e-08f, 0x0001},        // 1.5 * 2^-25
      {8.940696716308594e-08f, 0x0002},        // 3 * 2^-25: tie, to even (2)
      {1e-10f, 0x0000},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    CHECK(float_to_half(c.value) == c.bits);
  }
  const uint16_t nan = float_to_half(std::nanf(""));
  CHECK((nan & 0x7c00) == 0x7c00);
  CHECK((nan & 0x03ff) != 0);
  // A signaling NaN whose payload lives only in the low float bits stays a NaN.
  CHECK((float_to_half(from_bits(0x7f800001u)) & 0x7fff) == 0x7e00);
}

TEST_CASE("half_to_float is exact and round-trips every non-NaN half") {
  CHECK(half_to_float(0x0001) == 5.960464477539063e-08f);
  CHECK(half_to_float(0x03ff) == 6.097555160522461e-05f);  // largest subnormal
  CHECK(half_to_float(0x3555) == 0.333251953125f);
  CHECK(half_to_float(0x7c00) == std::numeric_limits<float>::infinity());
  CHECK(to_bits(half_to_float(0x8000)) == 0x80000000u);
  CHECK(std::isnan(half_to_float(0x7c01)));
  int mismatches = 0;
  for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
    if ((bits & 0x7c00u) == 0x7c00u && (bits & 0x3ffu) != 0) continue;  // NaN
    if (float_to_half(half_to_float(static_cast<uint16_t>(bits))) != bits) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("broadcast_strides gives 0 for repeated dims and right-aligns") {
  int64_t strides[kMaxRank];
  broadcast_strides(make_shape({3, 1}), make_shape({2, 3, 4}), strides);
  CHECK(strides[0] == 0);
  CHECK(strides[1] == 1);
  CHECK(strides[2] == 0);

  broadcast_strides(make_shape({2, 3, 4}), make_shape({2, 3, 4}), strides);
  CHECK(strides[0] == 12);
  CHECK(strides[1] == 4);
  CHECK(strides[2] == 1);

  broadcast_strides(make_shape({}), make_shape({5}), strides);
  CHECK(strides[0] == 0);
}

TEST_CASE("IndexWalker visits row-major order and wraps to zero") {
  const int64_t dims[] = {2, 3};
  const int64_t transposed[] = {1, 2};  // a [3, 2] tensor read as [2, 3]
  const int64_t broadcast[] = {1, 0};   // a [2, 1] tensor repeated along dim 1
  IndexWalker<2> walker(2, dims);
  walker.set_strides(0, transposed);
  walker.set_strides(1, broadcast);
  std::vector<int64_t> first, second;
  for (int i = 0; i < 6; ++i) {
    first.push_back(walker.offset(0));
    second.push_back(walker.offset(1));
    walker.next();
  }
  CHECK(first == std::vector<int64_t>{0, 2, 4, 1, 3, 5});
  CHECK(second == std::vector<int64_t>{0, 0, 0, 1, 1, 1});
  CHECK(walker.offset(0) == 0);
  CHECK(walker.offset(1) == 0);

  IndexWalker<1> scalar(0, dims);
  CHECK(scalar.offset(0) == 0);
  scalar.next();
  CHECK(scalar.offset(0) == 0);
}

TEST_CASE("check_activation") {
  KernelContext context;
  context.opcode = static_cast<uint32_t>(OpCode::kAdd);
  context.op_name = "node";
  CHECK(check_activation(context, false).is_ok());
  context.attributes.activation.kind = ActivationKind::kSilu;
  CHECK(check_activation(context, true).is_ok());
  Status rejected = check_activation(context, false);
  CHECK(rejected.code() == StatusCode::kInvalidModel);
  CHECK(std::strstr(rejected.message(), "Add 'node'") != nullptr);
  context.attributes.activation.kind = static_cast<ActivationKind>(7);
  CHECK(check_activation(context, true).code() == StatusCode::kInvalidModel);
}

}  // namespace
}  // namespace edgegen
