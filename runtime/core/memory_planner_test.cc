#include <doctest/doctest.h>

#include <vector>

#include "core/memory_planner.h"

using namespace edgegen;

namespace {
uint64_t plan(std::vector<PlannedBuffer>& buffers) {
  std::vector<uint32_t> order(buffers.size());
  uint64_t arena = 0;
  plan_greedy_by_size(buffers.data(), buffers.size(), 64, order.data(), &arena);
  return arena;
}
}  // namespace

TEST_CASE("a chain of tensors reuses memory: only neighbours are live together") {
  // a -> b -> c -> d, each op reads the previous tensor.
  std::vector<PlannedBuffer> buffers = {{1000, 0, 0}, {2000, 0, 1}, {1000, 1, 2}, {500, 2, 2}};
  uint64_t arena = plan(buffers);
  CHECK(check_plan(buffers.data(), buffers.size(), arena, 64).is_ok());
  CHECK(plan_lower_bound(buffers.data(), buffers.size(), 64) == 3072);  // 2048 + 1024 at step 1
  CHECK(arena == 3072);
}

TEST_CASE("tensors live at the same time never overlap; the plan meets the lower bound on a diamond") {
  std::vector<PlannedBuffer> buffers = {{256, 0, 2}, {128, 1, 3}, {512, 2, 3}, {64, 3, 3}, {64, 0, 0}};
  uint64_t arena = plan(buffers);
  CHECK(check_plan(buffers.data(), buffers.size(), arena, 64).is_ok());
  CHECK(arena >= plan_lower_bound(buffers.data(), buffers.size(), 64));
  CHECK(arena == plan_lower_bound(buffers.data(), buffers.size(), 64));
}

TEST_CASE("check_plan rejects overlap, misalignment and out-of-arena buffers") {
  std::vector<PlannedBuffer> buffers = {{128, 0, 1, 0}, {128, 1, 2, 64}};
  CHECK(check_plan(buffers.data(), 2, 1024, 64).code() == StatusCode::kInvalidModel);
  buffers[1].offset = 128;
  CHECK(check_plan(buffers.data(), 2, 1024, 64).is_ok());
  CHECK(check_plan(buffers.data(), 2, 200, 64).code() == StatusCode::kInvalidModel);
  buffers[1].offset = 130;
  CHECK(check_plan(buffers.data(), 2, 1024, 64).code() == StatusCode::kInvalidModel);
  // Not live at the same time: sharing bytes is fine.
  std::vector<PlannedBuffer> sequential = {{128, 0, 0, 0}, {128, 1, 1, 0}};
  CHECK(check_plan(sequential.data(), 2, 128, 64).is_ok());
}

TEST_CASE("empty and single-buffer plans") {
  std::vector<PlannedBuffer> none;
  CHECK(plan(none) == 0);
  std::vector<PlannedBuffer> one = {{1, 0, 0}};
  CHECK(plan(one) == 64);
  CHECK(one[0].offset == 0);
}
