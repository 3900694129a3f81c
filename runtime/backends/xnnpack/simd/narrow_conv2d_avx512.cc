// narrow_conv2d.h on AVX-512F: tiles of kPositions x kVectors zmm
// accumulators (24 of the 32 registers where the shape allows), compiled
// for AVX-512 by a target pragma after the includes and called only when
// the CPU has it.
#include "backends/xnnpack/simd/narrow_conv2d.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#include <cstring>

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(),
// which its flow analysis reports as uninitialized (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// Complete unrolling before scalar replacement, so that the accumulator
// array becomes registers.
#define EG_UNROLL _Pragma("GCC unroll 24")

namespace edgegen {
namespace simd {

namespace {

template <int kPair>
inline __m512 broadcast(const float* p) {
  if (kPair == 1) return _mm512_set1_ps(*p);
  double two;  // two consecutive floats in every 64-bit half-lane pair
  std::memcpy(&two, p, sizeof(two));
  return _mm512_castpd_ps(_mm512_set1_pd(two));
}

// A transposed convolution's patch of output pixels from input `position`.
// Each row of the patch is one run of floats in the output. Plain copies:
// a masked load cannot take its data from the (just stored) patch in the
// store buffer, and waiting for it cost more than the product (a 24 -> 1 head).
void scatter_patch(const NarrowConvPositions& a, int64_t position, const float* patch) {
  const int64_t y = position / a.out_w, x = position - y * a.out_w;
  const int64_t run = a.phases_w * a.patch_channels;
  for (int64_t qy = 0; qy < a.phases_h; ++qy, patch += run) {
    float* row = a.out + ((y * a.phases_h + qy) * a.patch_w + x * a.phases_w) * a.patch_channels;
    for (int64_t c = 0; c < run; ++c) row[c] = patch[c];
  }
}

// Positions [position, position + valid) as a tile of kPositions (the last
// one repeated to fill it; only `valid` are stored).
template <int kPositions, int kVectors, int kPair>
void tile(const NarrowConvPositions& a, int64_t position, int valid) {
  constexpr int64_t kStep = kVectors * kNarrowConvLanes;
  const int64_t out_stride = a.out_stride ? a.out_stride : a.out_channels;
  __m512 acc[kPositions][kVectors];
  EG_UNROLL
  for (int p = 0; p < kPositions; ++p) {
    // Past `valid`: the last position again (stored nowhere).
    const float* sums = a.out + (position + (p < valid ? p : valid - 1)) * out_stride;
    EG_UNROLL
    for (int v = 0; v < kVectors; ++v) {
      const int64_t left_over = a.out_channels - v * kNarrowConvLanes;
      const __mmask16 mask = left_over >= 16 ? __mmask16(0xffff) : left_over > 0 ? __mmask16((1u << left_over) - 1) : 0;
      acc[p][v] = kPair == 1 && a.accumulate ? _mm512_maskz_loadu_ps(mask, sums + v * kNarrowConvLanes)
                                             : _mm512_setzero_ps();
    }
  }
  // Each position's window corner in the input (may be in the padding).
  int64_t top[kPositions], left[kPositions];
  bool rows_inside = a.dilation_w == 1;  // every window row wholly inside: one pointer per kernel row
  const int64_t width = (a.kernel_w - 1) * a.dilation_w;
  int64_t oy = position / a.out_w, ox = position - oy * a.out_w;  // one division per tile
  // A whole tile in one output row (with windows inside): the positions'
  // rows are evenly spaced, read in threes from one base (below).
  const bool one_row = valid == kPositions && ox + kPositions - 1 < a.out_w;
  for (int p = 0; p < kPositions; ++p) {
    top[p] = oy * a.stride_h - a.pad_top;
    left[p] = ox * a.stride_w - a.pad_left;
    rows_inside = rows_inside && left[p] >= 0 && left[p] + width < a.in_w;
    if (p + 1 < valid && ++ox == a.out_w) ox = 0, ++oy;  // past `valid`: the last position again
  }
  // A segment: the input floats one row pointer covers, in weight order
  // (a whole kernel row, or one tap's channels, or a part of them).
  const bool part = a.channel_count > 0 && a.channel_count < a.in_channels;
  const int64_t channel_first = part ? a.channel_first : 0;
  const bool whole_rows = rows_inside && !part;
  const int64_t segment = whole_rows ? a.kernel_w * a.in_channels : part ? a.channel_count : a.in_channels;
  const int64_t segments = whole_rows ? a.kernel_h : a.kernel_h * a.kernel_w;
  const int64_t steps = a.in_channels / kPair;  // weight steps per tap
  for (int64_t s = 0; s < segments; ++s) {
    const int64_t ky = whole_rows ? s : s / a.kernel_w, kx = whole_rows ? 0 : s - ky * a.kernel_w;
    const float* w = a.packed + ((ky * a.kernel_w + kx) * steps + channel_first / kPair) * kStep;
    if (one_row && rows_inside) {
      // Position p reads base + p * spacing (the zeros, spacing 0, where the
      // kernel row is in the padding): (base, spacing, 1|2) addressing
      // instead of a pointer per position, which spilled. The same sums.
      const int64_t iy = top[0] + ky * a.dilation_h;
      const bool inside = static_cast<uint64_t>(iy) < static_cast<uint64_t>(a.in_h);
      const float* base =
          inside ? a.image + (iy * a.in_w + left[0] + kx * a.dilation_w) * a.in_channels + channel_first : a.zeros;
      const int64_t spacing = inside ? a.stride_w * a.in_channels : 0;
      const float* third[(kPositions + 2) / 3];
      EG_UNROLL
      for (int i = 0; i < (kPositions + 2) / 3; ++i) third[i] = base + 3 * i * spacing;
      for (int64_t c = 0; c < segment; c += kPair, w += kStep) {
        __m512 weights[kVectors];
        EG_UNROLL
        for (int v = 0; v < kVectors; ++v) weights[v] = _mm512_loadu_ps(w + v * kNarrowConvLanes);
        EG_UNROLL
        for (int p = 0; p < kPositions; ++p) {
          const __m512 x = broadcast<kPair>(third[p / 3] + (p % 3) * spacing + c);
          EG_UNROLL
          for (int v = 0; v < kVectors; ++v) acc[p][v] = _mm512_fmadd_ps(x, weights[v], acc[p][v]);
        }
      }
      continue;
    }
    const float* row[kPositions];
    EG_UNROLL
    for (int p = 0; p < kPositions; ++p) {
      const int64_t iy = top[p] + ky * a.dilation_h, ix = left[p] + kx * a.dilation_w;
      const bool inside = static_cast<uint64_t>(iy) < static_cast<uint64_t>(a.in_h) &&
                          static_cast<uint64_t>(ix) < static_cast<uint64_t>(a.in_w);
      row[p] = inside ? a.image + (iy * a.in_w + ix) * a.in_channels + channel_first : a.zeros;
    }
    for (int64_t c = 0; c < segment; c += kPair, w += kStep) {
      __m512 weights[kVectors];
      EG_UNROLL
      for (int v = 0; v < kVectors; ++v) weights[v] = _mm512_loadu_ps(w + v * kNarrowConvLanes);
      EG_UNROLL
      for (int p = 0; p < kPositions; ++p) {
        const __m512 x = broadcast<kPair>(row[p] + c);
        EG_UNROLL
        for (int v = 0; v < kVectors; ++v) acc[p][v] = _mm512_fmadd_ps(x, weights[v], acc[p][v]);
      }
    }
  }
  // Output block j: 16 channels, from vector j (alone) or the even and odd
  // lanes of vectors 2j and 2j + 1 (pairs).
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 low = _mm512_set1_ps(a.out_min), high = _mm512_set1_ps(a.out_max);
  constexpr int kBlocks = (kVectors + kPair - 1) / kPair;
  const bool patches = a.phases_h * a.phases_w > 1;
  EG_UNROLL
  for (int p = 0; p < kPositions; ++p) {
    if (p >= valid) break;
    alignas(64) float patch[kBlocks * kNarrowConvLanes];
    float* y = patches ? patch : a.out + (position + p) * out_stride;
    EG_UNROLL
    for (int j = 0; j < kBlocks; ++j) {
      __m512 sum;
      if (kPair == 1) {
        sum = acc[p][j];
      } else {
        const __m512 first = acc[p][2 * j];
        const __m512 second = 2 * j + 1 < kVectors ? acc[p][2 * j + 1] : _mm512_setzero_ps();
        sum = _mm512_add_ps(_mm512_permutex2var_ps(first, even, second), _mm512_permutex2var_ps(first, odd, second));
      }
      if (!a.accumulate) sum = _mm512_add_ps(sum, _mm512_loadu_ps(a.bias + j * kNarrowConvLanes));
      if (a.clamp) sum = _mm512_min_ps(_mm512_max_ps(sum, low), high);
      const int64_t left_over = a.out_channels - j * kNarrowConvLanes;
      const __mmask16 mask = left_over >= 16 || patches ? __mmask16(0xffff) : __mmask16((1u << left_over) - 1);
      _mm512_mask_storeu_ps(y + j * kNarrowConvLanes, mask, sum);
    }
    if (patches) scatter_patch(a, position + p, patch);
  }
}

template <int kPositions, int kVectors, int kPair>
void positions(const NarrowConvPositions& a) {
  int64_t p = a.first;
  const int64_t end = a.first + a.count;
  for (; p + kPositions <= end; p += kPositions) tile<kPositions, kVectors, kPair>(a, p, kPositions);
  // The rest a quarter tile at a time (a squeeze-excitation's one pixel
  // would otherwise compute a whole tile of copies): the same sums.
  constexpr int kQuarter = kPositions / 4 > 0 ? kPositions / 4 : 1;
  for (; p < end; p += kQuarter)
    tile<kQuarter, kVectors, kPair>(a, p, static_cast<int>(end - p < kQuarter ? end - p : kQuarter));
}

// About 24 accumulators: enough multiply-adds in flight per broadcast and
// weight load, with registers left for the weights.
template <int kPair>
void by_vectors(const NarrowConvPositions& a) {
  switch (a.vectors) {
    case 1: return positions<12, 1, kPair>(a);
    case 2: return positions<12, 2, kPair>(a);
    case 3: return positions<8, 3, kPair>(a);
    case 4: return positions<6, 4, kPair>(a);
    case 5: return positions<4, 5, kPair>(a);
    default: return positions<4, 6, kPair>(a);
  }
}

}  // namespace

void narrow_conv2d_avx512(const NarrowConvPositions& a) {
  if (a.pair == 2) by_vectors<2>(a);
  else by_vectors<1>(a);
}

bool has_narrow_conv2d_avx512() { return __builtin_cpu_supports("avx512f"); }

}  // namespace simd
}  // namespace edgegen

#undef EG_UNROLL
#pragma GCC diagnostic pop
#pragma GCC pop_options

#else  // not x86-64 GCC/Clang: never chosen

namespace edgegen {
namespace simd {
void narrow_conv2d_avx512(const NarrowConvPositions&) {}
bool has_narrow_conv2d_avx512() { return false; }
}  // namespace simd
}  // namespace edgegen

#endif
