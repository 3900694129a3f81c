#include "backends/xnnpack/xnnpack_memory.h"

#include <xnnpack.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace edgegen {
namespace xnnpack {

namespace {

// Every block starts with this header, kHeaderBytes before the pointer
// XNNPACK sees, so deallocate and reallocate know where a block came from
// and how large it is without any table.
struct BlockHeader {
  uint32_t magic;
  uint32_t in_region;  // 1: arena or a region's heap blocks (never freed individually), 0: heap
  size_t size;
  void* heap_block;    // what to free() for heap blocks
  void* next_block;    // a region's heap blocks: the next one to free with it
};
constexpr size_t kHeaderBytes = 64;  // keeps the payload 64-byte aligned
static_assert(sizeof(BlockHeader) <= kHeaderBytes, "header must fit its slot");
constexpr uint32_t kMagic = 0xE6A11C8u;
constexpr size_t kMaxAlignment = 64;

thread_local MemoryRegion* active_region = nullptr;

BlockHeader* header_of(void* pointer) {
  return reinterpret_cast<BlockHeader*>(static_cast<uint8_t*>(pointer) - kHeaderBytes);
}

void* heap_block(size_t size, size_t alignment) {
  if (alignment < kMaxAlignment) alignment = kMaxAlignment;
  void* block = nullptr;
  if (posix_memalign(&block, alignment, size + kHeaderBytes + alignment) != 0) return nullptr;
  return block;
}

void* allocate_aligned(void* /*context*/, size_t alignment, size_t size) {
  if (alignment > kMaxAlignment) return nullptr;
  uint8_t* start = nullptr;
  void* block = nullptr;
  uint32_t in_region = 0;
  if (MemoryRegion* region = active_region) {
    if (region->counting() || region->owns_blocks()) {
      // Record the arena footprint, but hand out heap memory.
      if (region->allocate(size + kHeaderBytes, kMaxAlignment) == nullptr && region->exhausted()) return nullptr;
      block = heap_block(size, alignment);
      start = static_cast<uint8_t*>(block);
      if (block != nullptr && region->owns_blocks()) in_region = 1;
    } else {
      start = static_cast<uint8_t*>(region->allocate(size + kHeaderBytes, kMaxAlignment));
      in_region = 1;
    }
  } else {
    block = heap_block(size, alignment);
    start = static_cast<uint8_t*>(block);
  }
  if (start == nullptr) return nullptr;
  void* pointer = start + kHeaderBytes;
  BlockHeader* header = header_of(pointer);
  header->magic = kMagic;
  header->in_region = in_region;
  header->size = size;
  header->heap_block = block;
  header->next_block = nullptr;
  if (in_region == 1 && block != nullptr) active_region->adopt_block(block);
  return pointer;
}

void* allocate(void* context, size_t size) { return allocate_aligned(context, kMaxAlignment, size); }

void deallocate(void* /*context*/, void* pointer) {
  if (pointer == nullptr) return;
  BlockHeader* header = header_of(pointer);
  if (header->magic != kMagic) return;  // not ours: never free what we cannot vouch for
  if (header->in_region == 0) {
    header->magic = 0;
    std::free(header->heap_block);
  }
  // Arena blocks are released with the arena.
}

void* reallocate(void* context, void* pointer, size_t size) {
  if (pointer == nullptr) return allocate(context, size);
  BlockHeader* header = header_of(pointer);
  size_t old_size = header->size;
  if (size <= old_size) return pointer;
  void* fresh = allocate(context, size);
  if (fresh == nullptr) return nullptr;
  std::memcpy(fresh, pointer, old_size);
  deallocate(context, pointer);
  return fresh;
}

const xnn_allocator kAllocator = {nullptr, allocate, reallocate, deallocate, allocate_aligned, deallocate};

}  // namespace

MemoryRegion::~MemoryRegion() { free_blocks(blocks_); }

// The block's header sits kHeaderBytes before the payload, at the block's
// start (heap blocks are allocated at the alignment the payload needs).
void MemoryRegion::adopt_block(void* block) {
  reinterpret_cast<BlockHeader*>(block)->next_block = blocks_;
  blocks_ = block;
}

void* MemoryRegion::release_blocks() {
  void* blocks = blocks_;
  blocks_ = nullptr;
  return blocks;
}

void MemoryRegion::free_blocks(void* blocks) {
  while (blocks != nullptr) {
    void* next = reinterpret_cast<BlockHeader*>(blocks)->next_block;
    std::free(blocks);
    blocks = next;
  }
}

void* MemoryRegion::allocate(size_t size, size_t alignment) {
  size_t start = (used_ + alignment - 1) / alignment * alignment;
  if (start + size > capacity_ && base_ != nullptr) {
    exhausted_ = true;
    return nullptr;
  }
  used_ = start + size;
  return base_ == nullptr ? nullptr : base_ + start;
}

void* region_allocate(MemoryRegion* region, size_t size) {
  if (region->counting()) {
    region->allocate(size + kHeaderBytes, kMaxAlignment);
    return nullptr;
  }
  ActiveRegion active(region);
  return allocate_aligned(nullptr, kMaxAlignment, size);
}

bool initialize() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = xnn_initialize(&kAllocator) == xnn_status_success; });
  return ok;
}

ActiveRegion::ActiveRegion(MemoryRegion* region) : previous_(active_region) { active_region = region; }
ActiveRegion::~ActiveRegion() { active_region = previous_; }

}  // namespace xnnpack
}  // namespace edgegen
