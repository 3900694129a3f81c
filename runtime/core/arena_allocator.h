// A bump allocator over the caller's arena, used by prepare to lay out the
// persistent part (see the picture in edgegen/session.h). It can also run
// without memory, only counting, so the same layout code computes the
// arena size before any arena exists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace edgegen {

constexpr size_t kArenaAlignment = 64;

class ArenaAllocator {
 public:
  // base == nullptr: counting mode (allocate returns nullptr, used() grows).
  ArenaAllocator(uint8_t* base, size_t capacity) : base_(base), capacity_(capacity) {}

  // `count` objects of T, default-initialized. nullptr in counting mode or
  // when the arena is exhausted (check exhausted()).
  template <typename T>
  T* allocate(size_t count) {
    void* memory = allocate_bytes(count * sizeof(T), alignof(T));
    if (memory == nullptr) return nullptr;
    T* objects = static_cast<T*>(memory);
    for (size_t i = 0; i < count; ++i) new (&objects[i]) T();
    return objects;
  }

  // The base is 64-byte aligned, so offsets aligned here are aligned addresses.
  void* allocate_bytes(size_t bytes, size_t alignment = kArenaAlignment) {
    size_t start = (used_ + alignment - 1) / alignment * alignment;
    used_ = start + bytes;
    if (base_ == nullptr || used_ > capacity_) return nullptr;
    return base_ + start;
  }

  size_t used() const { return used_; }
  bool exhausted() const { return base_ != nullptr && used_ > capacity_; }

 private:
  uint8_t* base_;  // borrowed
  size_t capacity_;
  size_t used_ = 0;
};

}  // namespace edgegen
