// Hardmax: one 1 at the first maximum of each slice, for an inner axis and
// the old flattening semantics.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

TEST_CASE("Hardmax: the first maximum of each row, of each column, of each flattened slice") {
  const std::vector<float> x = {3, 1, 3, 0, 2, 7};  // [2, 3]
  KernelRunner rows(OpCode::kHardmax);
  rows.input({2, 3}, x).ints({1, 2});
  REQUIRE(rows.run().is_ok());
  CHECK(rows.output_values() == std::vector<float>{1, 0, 0, 0, 0, 1});
  KernelRunner columns(OpCode::kHardmax);
  columns.input({2, 3}, x).ints({0, 1});
  REQUIRE(columns.run().is_ok());
  CHECK(columns.output_values() == std::vector<float>{1, 0, 0, 0, 1, 1});
  KernelRunner all(OpCode::kHardmax);
  all.input({2, 3}, x).ints({0, 2});
  REQUIRE(all.run().is_ok());
  CHECK(all.output_values() == std::vector<float>{0, 0, 0, 0, 0, 1});
  KernelRunner bad(OpCode::kHardmax);
  bad.input({2, 3}, x).ints({1, 1});
  CHECK(!bad.infer().is_ok());
}

}  // namespace
}  // namespace edgegen
