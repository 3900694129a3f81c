// Trilu: upper and lower triangles with positive, negative and far
// diagonals, batches, a run-time k, and int64 data.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "testing/kernel_runner.h"

namespace edgegen {
namespace {

using testing::KernelRunner;

const std::vector<float> kMatrix = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // [3, 4]

std::vector<float> trilu(bool upper, int64_t k) {
  KernelRunner runner(OpCode::kTrilu);
  runner.input({3, 4}, kMatrix).input_i64({}, {k}, false).ints({upper ? 1 : 0});
  REQUIRE(runner.run().is_ok());
  return runner.output_values();
}

TEST_CASE("Trilu: np.triu and np.tril with k") {
  CHECK(trilu(true, 0) == std::vector<float>{1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12});
  CHECK(trilu(true, 2) == std::vector<float>{0, 0, 3, 4, 0, 0, 0, 8, 0, 0, 0, 0});
  CHECK(trilu(true, -1) == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12});
  CHECK(trilu(false, 0) == std::vector<float>{1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0});
  CHECK(trilu(false, -2) == std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0});
  CHECK(trilu(false, 9) == kMatrix);
  CHECK(trilu(true, -9) == kMatrix);
  CHECK(trilu(true, 9) == std::vector<float>(12, 0.f));
}

TEST_CASE("Trilu: a batch of int64 matrices without k, and an empty one") {
  KernelRunner runner(OpCode::kTrilu);
  runner.input_i64({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}, false).ints({0});
  REQUIRE(runner.run().is_ok());
  CHECK(runner.output_as<int64_t>() == std::vector<int64_t>{1, 0, 3, 4, 5, 0, 7, 8});
  KernelRunner empty(OpCode::kTrilu);
  empty.input({3, 0, 5}, {}).ints({1});
  REQUIRE(empty.run().is_ok());
  CHECK(empty.output_shape() == std::vector<int64_t>{3, 0, 5});
  KernelRunner vector(OpCode::kTrilu);
  vector.input({3}, {1, 2, 3}).ints({1});
  CHECK(!vector.infer().is_ok());
}

}  // namespace
}  // namespace edgegen
