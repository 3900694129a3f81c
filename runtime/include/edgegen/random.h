// Seeded, counter-based random numbers that are bit-identical on every
// platform: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011) and a Box–Muller transform whose log/sin/cos are
// computed by our own fixed-operation series instead of libm, since libm
// implementations differ in their last bits between platforms.
//
// Counter-based means value i of a stream depends only on (seed, stream, i):
// generating in chunks gives exactly what one call would, whatever the batch
// size or thread count.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {

// One Philox4x32-10 block: 4 random words for (key, counter).
void philox4x32(uint64_t key, uint64_t counter_low, uint64_t counter_high, uint32_t out[4]);

// Writes standard normal values first .. first+count-1 of stream (seed, stream).
void fill_normal(uint64_t seed, uint64_t stream, uint64_t first, float* out, size_t count);

// Writes uniform values in [0, 1) with the same indexing.
void fill_uniform(uint64_t seed, uint64_t stream, uint64_t first, float* out, size_t count);

}  // namespace edgegen
