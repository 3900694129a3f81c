#include "testing/allocation_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define EDGEGEN_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDGEGEN_COUNT_MALLOC 0
#endif
#endif
#if !defined(EDGEGEN_COUNT_MALLOC) && defined(__GLIBC__)
#define EDGEGEN_COUNT_MALLOC 1
#endif
#ifndef EDGEGEN_COUNT_MALLOC
#define EDGEGEN_COUNT_MALLOC 0
#endif

namespace {
std::atomic<size_t> g_allocations{0};
std::atomic<int> g_active_scopes{0};
inline void note_allocation() {
  if (g_active_scopes.load(std::memory_order_relaxed) > 0) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if EDGEGEN_COUNT_MALLOC
// glibc exports its allocator under these names, so the replacements below
// can forward to it.
extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);

void* malloc(size_t size) {
  note_allocation();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  note_allocation();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) {
  note_allocation();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  note_allocation();
  return __libc_memalign(alignment, size);
}
void* memalign(size_t alignment, size_t size) {
  note_allocation();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  note_allocation();
  void* pointer = __libc_memalign(alignment, size);
  if (pointer == nullptr) return 12;  // ENOMEM
  *out = pointer;
  return 0;
}
}
#endif

void* operator new(size_t size) {
  note_allocation();
  void* pointer = std::malloc(size ? size : 1);
  if (pointer == nullptr) std::abort();
  return pointer;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  note_allocation();
  return std::malloc(size ? size : 1);
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete[](void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, size_t) noexcept { std::free(pointer); }
void operator delete[](void* pointer, size_t) noexcept { std::free(pointer); }

namespace edgegen {
namespace testing {

bool counts_malloc() { return EDGEGEN_COUNT_MALLOC != 0; }

AllocationScope::AllocationScope() : start_(g_allocations.load()) { g_active_scopes.fetch_add(1); }
AllocationScope::~AllocationScope() { g_active_scopes.fetch_sub(1); }
size_t AllocationScope::count() const { return g_allocations.load() - start_; }

}  // namespace testing
}  // namespace edgegen
