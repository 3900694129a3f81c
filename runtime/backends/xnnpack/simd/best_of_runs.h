// Timing for the hand-run benches (qgemm_bench.cc, mac_ceiling_bench.cc):
// the best seconds per call over 5 measurements, each calling `run` for at
// least `seconds` (the machine may be shared; the best is the unpre-empted
// figure). Bench only: uses the clock, never built into the runtime.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/clock.h"

namespace edgegen {
namespace simd {

template <typename Run>
double best_seconds_per_call(Run run, double seconds) {
  run();  // warm the caches and the page tables, and let the core reach its vector clock
  double best = 1e30;
  for (int trial = 0; trial < 5; ++trial) {
    size_t calls = 0;
    const uint64_t start = monotonic_nanoseconds();
    uint64_t now = start;
    do {
      run();
      ++calls;
      now = monotonic_nanoseconds();
    } while (static_cast<double>(now - start) < seconds * 1e9);
    const double per_call = static_cast<double>(now - start) * 1e-9 / static_cast<double>(calls);
    if (per_call < best) best = per_call;
  }
  return best;
}

}  // namespace simd
}  // namespace edgegen
