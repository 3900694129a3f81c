// The tile loop of direct_conv1d.h, written once over a small vector
// interface (`Isa`: V, kLanes, load, store, broadcast, fma, min, max,
// leaky) and instantiated per variant in the file compiled for it.
#pragma once

#include <cstring>

#include "backends/xnnpack/simd/direct_conv1d.h"

// Complete unrolling before scalar replacement, so that the accumulator
// array becomes registers (without it GCC 12 stores every accumulator to
// the stack after each multiply-add).
#define EG_UNROLL _Pragma("GCC unroll 16")

namespace edgegen {
namespace simd {
namespace direct_conv {

// kRows rows x kVecs vectors of output channels starting at `channel`.
// kChannels: the input channels when known at compile time (0: not), so
// that the channel loop unrolls into loads at constant offsets; at 8
// channels the per-step address arithmetic otherwise costs as much as the
// multiply-adds.
template <class Isa, int kRows, int kVecs, int kChannels>
inline void tile(const DirectConvRows& a, int64_t first_row, int64_t channel) {
  using V = typename Isa::V;
  constexpr int kLanes = Isa::kLanes;
  V acc[kRows][kVecs];
  EG_UNROLL
  for (int v = 0; v < kVecs; ++v) {
    const V b = Isa::load(a.bias + channel + v * kLanes);
    EG_UNROLL
    for (int r = 0; r < kRows; ++r) acc[r][v] = b;
  }
  const float* x = a.x + first_row * a.x_step;
  const float* w = a.weights + channel;
  for (int64_t t = 0; t < a.taps; ++t) {
    const float* xt = x + t * a.tap_step;
    const float* third[(kRows + 2) / 3];
    EG_UNROLL
    for (int i = 0; i < (kRows + 2) / 3; ++i) third[i] = xt + 3 * i * a.x_step;
    const float* wt = w + t * (kChannels ? kChannels : a.in_channels) * a.padded_out;
    const int64_t channels = kChannels ? kChannels : a.in_channels;
    EG_UNROLL
    for (int64_t c = 0; c < channels; ++c) {
      V wv[kVecs];
      EG_UNROLL
      for (int v = 0; v < kVecs; ++v) wv[v] = Isa::load(wt + c * a.padded_out + v * kLanes);
      EG_UNROLL
      for (int r = 0; r < kRows; ++r) {
        // Rows in threes from one base: (base, step, 1|2) addressing.
        const V xb = Isa::broadcast(third[r / 3] + (r % 3) * a.x_step + c);
        EG_UNROLL
        for (int v = 0; v < kVecs; ++v) acc[r][v] = Isa::fma(xb, wv[v], acc[r][v]);
      }
    }
  }
  const V low = Isa::broadcast(&a.out_min), high = Isa::broadcast(&a.out_max);
  const V slope = Isa::broadcast(&a.leaky_slope);
  const int64_t width = kVecs * kLanes;
  const int64_t valid = a.out_channels - channel < width ? a.out_channels - channel : width;
  EG_UNROLL
  for (int r = 0; r < kRows; ++r) {
    float* y = a.y + (first_row + r) * a.y_step + channel;
    float spill[kVecs * kLanes];
    float* to = valid == width ? y : spill;
    EG_UNROLL
    for (int v = 0; v < kVecs; ++v) {
      V s = Isa::min(Isa::max(acc[r][v], low), high);
      if (a.leaky) s = Isa::leaky(s, slope);
      Isa::store(to + v * kLanes, s);
    }
    if (to == spill) std::memcpy(y, spill, static_cast<size_t>(valid) * sizeof(float));
  }
}

// Every row and channel block: wide blocks (kWideVecs vectors of `Wide`)
// while that many padded channels remain, then narrow ones (`Narrow`, 8
// channels); rows in tiles, the rest one at a time (the same sums).
template <class Wide, int kWideRows, int kWideVecs, class Narrow, int kNarrowRows, int kNarrowVecs, int kChannels>
inline void rows_of(const DirectConvRows& a) {
  constexpr int64_t kWide = kWideVecs * Wide::kLanes, kNarrow = kNarrowVecs * Narrow::kLanes;
  int64_t channel = 0;
  for (; channel + kWide <= a.padded_out; channel += kWide) {
    int64_t r = 0;
    for (; r + kWideRows <= a.rows; r += kWideRows) tile<Wide, kWideRows, kWideVecs, kChannels>(a, r, channel);
    for (; r < a.rows; ++r) tile<Wide, 1, kWideVecs, kChannels>(a, r, channel);
  }
  for (; channel < a.padded_out; channel += kNarrow) {
    int64_t r = 0;
    for (; r + kNarrowRows <= a.rows; r += kNarrowRows) tile<Narrow, kNarrowRows, kNarrowVecs, kChannels>(a, r, channel);
    for (; r < a.rows; ++r) tile<Narrow, 1, kNarrowVecs, kChannels>(a, r, channel);
  }
}

// 8 input channels (a vocoder's last stage) unrolled: about 5% faster
// there; unrolling 16 or more made GCC spill accumulators (measured slower).
template <class Wide, int kWideRows, int kWideVecs, class Narrow, int kNarrowRows, int kNarrowVecs>
inline void rows(const DirectConvRows& a) {
  if (a.in_channels == 8) rows_of<Wide, kWideRows, kWideVecs, Narrow, kNarrowRows, kNarrowVecs, 8>(a);
  else rows_of<Wide, kWideRows, kWideVecs, Narrow, kNarrowRows, kNarrowVecs, 0>(a);
}

}  // namespace direct_conv

#undef EG_UNROLL
}  // namespace simd
}  // namespace edgegen
