// Where XNNPACK's memory comes from.
//
// XNNPACK takes one process-wide allocator at xnn_initialize. Ours routes
// every allocation made while a MemoryRegion is active on the calling thread
// (Session::prepare creating and setting up operators) into that region:
// packed weights, indirection buffers and operator structs then live in the
// caller's arena. A region in counting mode takes memory from the heap but
// records what the same sequence of allocations would use in an arena, so
// arena_bytes_needed can report the exact size before any arena exists; the
// operators created in counting mode are deleted right after. A region that
// owns heap blocks serves a session that allocates its own memory: it packs
// once, straight to the heap, instead of counting first and packing again.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {
namespace xnnpack {

class MemoryRegion {
 public:
  // base == nullptr: counting mode.
  MemoryRegion(uint8_t* base, size_t capacity) : base_(base), capacity_(capacity) {}
  // Heap mode: every allocation is a heap block this region owns; they are
  // freed together, by the destructor or, once handed over with
  // release_blocks, by free_blocks.
  struct HeapBlocks {};
  explicit MemoryRegion(HeapBlocks) : base_(nullptr), capacity_(0), owns_blocks_(true) {}
  ~MemoryRegion();
  MemoryRegion(const MemoryRegion&) = delete;
  MemoryRegion& operator=(const MemoryRegion&) = delete;

  bool counting() const { return base_ == nullptr && !owns_blocks_; }
  bool owns_blocks() const { return owns_blocks_; }
  size_t used() const { return used_; }
  size_t capacity() const { return capacity_; }
  bool exhausted() const { return exhausted_; }

  // Called by the allocator hooks only.
  void* allocate(size_t size, size_t alignment);
  void adopt_block(void* block);

  // Heap mode: hands the blocks to the caller (an opaque list head).
  void* release_blocks();
  static void free_blocks(void* blocks);

 private:
  uint8_t* base_;
  size_t capacity_;
  size_t used_ = 0;
  bool exhausted_ = false;
  bool owns_blocks_ = false;
  void* blocks_ = nullptr;  // heap mode: the first block; each links the next
};

// Memory for packed weights of our own kernels (backends/xnnpack/simd) in `region`,
// taken and counted exactly as XNNPACK's own allocations are: in counting
// mode it only records the bytes (returns null); with heap blocks it returns
// a block the region owns; otherwise arena memory. 64-byte aligned; null
// with region->exhausted() when the arena region is too small.
void* region_allocate(MemoryRegion* region, size_t size);

// Initializes XNNPACK once per process with the routing allocator. False when
// XNNPACK refuses this CPU (or was built out).
bool initialize();

// Makes `region` receive this thread's XNNPACK allocations until the scope ends.
class ActiveRegion {
 public:
  explicit ActiveRegion(MemoryRegion* region);
  ~ActiveRegion();
  ActiveRegion(const ActiveRegion&) = delete;
  ActiveRegion& operator=(const ActiveRegion&) = delete;

 private:
  MemoryRegion* previous_;
};

}  // namespace xnnpack
}  // namespace edgegen
