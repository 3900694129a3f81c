// Placing activation tensors in one arena.
//
// Every buffer has a size and a lifetime [first_use, last_use] in operator
// steps (inclusive at both ends: an operator's inputs and outputs are live
// at the same step, so an output never shares bytes with an input). Two
// buffers whose lifetimes intersect must not share bytes.
//
// The converter plans once, offline, and stores the offsets in the file;
// the runtime calls check_plan on what it loads and can re-plan with the
// same function (no heap: the caller supplies every array).
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/status.h"

namespace edgegen {

struct PlannedBuffer {
  uint64_t size = 0;      // bytes
  int32_t first_use = 0;  // first step the buffer is live
  int32_t last_use = 0;   // last step the buffer is live
  uint64_t offset = 0;    // written by plan_greedy_by_size
};

inline uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

inline bool lifetimes_overlap(const PlannedBuffer& a, const PlannedBuffer& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

// Greedy by size (largest first): each buffer goes to the lowest aligned
// offset that does not collide with an already placed buffer that is live at
// the same time. `order` is caller scratch for `count` entries. Writes every
// buffer's offset and the total arena size.
void plan_greedy_by_size(PlannedBuffer* buffers, size_t count, uint64_t alignment, uint32_t* order,
                         uint64_t* arena_bytes);

// The largest total (aligned) size of buffers live at one step: no plan can
// use less.
uint64_t plan_lower_bound(const PlannedBuffer* buffers, size_t count, uint64_t alignment);

// Checks a plan: every offset aligned, every buffer inside the arena, no two
// simultaneously live buffers overlapping. On failure names the buffers by
// index, and writes the indices of two overlapping ones to `overlap` (when
// given) so the caller can name them better.
struct PlanOverlap {
  size_t first = SIZE_MAX, second = SIZE_MAX;
};
Status check_plan(const PlannedBuffer* buffers, size_t count, uint64_t arena_bytes, uint64_t alignment,
                  PlanOverlap* overlap = nullptr);

}  // namespace edgegen
