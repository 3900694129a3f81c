#include "platform/clock.h"

#if defined(__unix__) || defined(__APPLE__)
#include <time.h>
#endif

namespace edgegen {

uint64_t monotonic_nanoseconds() {
#if defined(__unix__) || defined(__APPLE__)
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.tv_nsec);
#else
  return 0;
#endif
}

}  // namespace edgegen
