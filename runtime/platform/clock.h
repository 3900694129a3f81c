// A monotonic clock for profiles and progress reports. Bare-metal builds
// without a clock get 0 (profiles then report zero durations).
#pragma once

#include <cstdint>

namespace edgegen {

uint64_t monotonic_nanoseconds();

}  // namespace edgegen
