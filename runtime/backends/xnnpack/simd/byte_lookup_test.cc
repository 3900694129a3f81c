#include "backends/xnnpack/simd/byte_lookup.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace edgegen {
namespace {

TEST_CASE("simd::byte_lookup maps every byte through the table, VBMI and portable alike, any length") {
  uint8_t table[256];
  for (int i = 0; i < 256; ++i) table[i] = static_cast<uint8_t>((i * 73 + 19) ^ (i >> 3));
  for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{300}}) {
    CAPTURE(n);
    std::vector<uint8_t> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = static_cast<uint8_t>(i * 37 + 11);
    for (bool vbmi : {true, false}) {
      CAPTURE(vbmi);
      std::vector<uint8_t> y(n + 1, 0xAB);  // one guard byte past the end
      simd::byte_lookup(table, x.data(), y.data(), n, vbmi);
      for (size_t i = 0; i < n; ++i) CHECK(y[i] == table[x[i]]);
      CHECK(y[n] == 0xAB);
    }
  }
}

}  // namespace
}  // namespace edgegen
