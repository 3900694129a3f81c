// Counts heap allocations (malloc, calloc, realloc, aligned allocations and
// operator new) made while a scope is active, for the "no allocation after
// prepare" tests. Link allocation_counter.cc into the test executable: it
// replaces the allocation functions for the whole program.
#pragma once

#include <cstddef>

namespace edgegen {
namespace testing {

// True when malloc itself is counted (not under AddressSanitizer, which owns
// malloc; operator new is counted everywhere).
bool counts_malloc();

class AllocationScope {
 public:
  AllocationScope();
  ~AllocationScope();
  // Allocations seen since this scope began.
  size_t count() const;

 private:
  size_t start_;
};

}  // namespace testing
}  // namespace edgegen
