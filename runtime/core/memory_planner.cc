#include "core/memory_planner.h"

namespace edgegen {

void plan_greedy_by_size(PlannedBuffer* buffers, size_t count, uint64_t alignment, uint32_t* order,
                         uint64_t* arena_bytes) {
  // Insertion sort of indices, largest first, then earliest first: stable
  // and allocation-free; graphs have at most a few thousand tensors.
  for (size_t i = 0; i < count; ++i) {
    uint32_t index = static_cast<uint32_t>(i);
    size_t j = i;
    while (j > 0) {
      const PlannedBuffer& prev = buffers[order[j - 1]];
      const PlannedBuffer& cur = buffers[index];
      bool before = cur.size > prev.size || (cur.size == prev.size && cur.first_use < prev.first_use);
      if (!before) break;
      order[j] = order[j - 1];
      --j;
    }
    order[j] = index;
  }

  uint64_t total = 0;
  for (size_t placed = 0; placed < count; ++placed) {
    PlannedBuffer& buffer = buffers[order[placed]];
    uint64_t size = align_up(buffer.size, alignment);
    // Try offset 0, then the end of each conflicting placed buffer, and take
    // the lowest candidate that fits between all conflicts.
    uint64_t best = UINT64_MAX;
    for (size_t c = 0; c <= placed; ++c) {
      uint64_t candidate = 0;
      if (c < placed) {
        const PlannedBuffer& other = buffers[order[c]];
        if (!lifetimes_overlap(buffer, other)) continue;
        candidate = other.offset + align_up(other.size, alignment);
      }
      if (candidate >= best) continue;
      bool fits = true;
      for (size_t k = 0; k < placed && fits; ++k) {
        const PlannedBuffer& other = buffers[order[k]];
        if (!lifetimes_overlap(buffer, other)) continue;
        uint64_t other_end = other.offset + align_up(other.size, alignment);
        if (candidate < other_end && other.offset < candidate + size) fits = false;
      }
      if (fits) best = candidate;
    }
    buffer.offset = best;
    if (best + size > total) total = best + size;
  }
  *arena_bytes = total;
}

uint64_t plan_lower_bound(const PlannedBuffer* buffers, size_t count, uint64_t alignment) {
  // The live total only rises where a buffer starts, so checking those steps suffices.
  uint64_t best = 0;
  for (size_t i = 0; i < count; ++i) {
    int32_t step = buffers[i].first_use;
    uint64_t live = 0;
    for (size_t j = 0; j < count; ++j)
      if (buffers[j].first_use <= step && step <= buffers[j].last_use) live += align_up(buffers[j].size, alignment);
    if (live > best) best = live;
  }
  return best;
}

Status check_plan(const PlannedBuffer* buffers, size_t count, uint64_t arena_bytes, uint64_t alignment,
                  PlanOverlap* overlap) {
  for (size_t i = 0; i < count; ++i) {
    const PlannedBuffer& a = buffers[i];
    if (alignment == 0 || a.offset % alignment != 0)
      return Status::error(StatusCode::kInvalidModel, "memory plan: tensor %zu offset %llu is not %llu-aligned", i,
                           static_cast<unsigned long long>(a.offset), static_cast<unsigned long long>(alignment));
    if (a.offset > arena_bytes || a.size > arena_bytes - a.offset)
      return Status::error(StatusCode::kInvalidModel,
                           "memory plan: tensor %zu [%llu, +%llu) lies outside the %llu-byte arena", i,
                           static_cast<unsigned long long>(a.offset), static_cast<unsigned long long>(a.size),
                           static_cast<unsigned long long>(arena_bytes));
    if (a.first_use > a.last_use)
      return Status::error(StatusCode::kInvalidModel, "memory plan: tensor %zu is never live", i);
  }
  for (size_t i = 0; i < count; ++i) {
    const PlannedBuffer& a = buffers[i];
    if (a.size == 0) continue;
    for (size_t j = i + 1; j < count; ++j) {
      const PlannedBuffer& b = buffers[j];
      if (b.size == 0 || !lifetimes_overlap(a, b)) continue;
      if (a.offset < b.offset + b.size && b.offset < a.offset + a.size) {
        if (overlap != nullptr) overlap->first = i, overlap->second = j;
        return Status::error(StatusCode::kInvalidModel,
                             "memory plan: tensors %zu and %zu are live at the same time but overlap in the arena",
                             i, j);
      }
    }
  }
  return Status::ok();
}

}  // namespace edgegen
