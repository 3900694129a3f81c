// The passes of an int8 GroupNorm on AVX-512 (F, BW, VL): 16 channels per step,
// int8 widened by vpmovsxbd, stored back by a truncating vpmovdb. GCC's
// vectorization of group_norm_int8.cc's loops packs int8 through xmm
// halves (0.4 ns a value on a Xeon, slower than the float norm it
// replaces). The same float operations in the same order as those loops
// (no contraction), so the same bits: the rounding is the conversion's own
// round-to-nearest-even, which equals round_half_even() on the clamped
// range. Except SiLU, which is within one step of the reference anyway:
// its exp uses multiply-adds, its division a refined reciprocal estimate. Compiled for AVX-512 (a
// target pragma after the includes), called only when the CPU has it.
#include "backends/xnnpack/simd/group_norm_int8_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl")
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(),
// which its flow analysis reports as uninitialized (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "backends/xnnpack/simd/silu_block_avx512.h"

namespace edgegen {
namespace simd {
namespace {

inline __mmask16 first_lanes(size_t n) { return n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u); }

inline __m512 nan_to_zero(__m512 v) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v); }

// The output step's constants, in registers for the whole loop.
struct Step {
  __m512 inverse_scale, low, high;
  __m512i zero_point;
  explicit Step(const OutputStepAvx512& o)
      : inverse_scale(_mm512_set1_ps(o.inverse_scale)),
        low(_mm512_set1_ps(o.low)),
        high(_mm512_set1_ps(o.high)),
        zero_point(_mm512_set1_epi32(o.zero_point)) {}
};

// The step from v = a * q + b to the output integers, for U vectors at a
// time, stage by stage: the chain is ~30 instructions long, and interleaving
// independent vectors is what keeps both vector ports busy.
//
// SiLU: silu_block_avx512.h's (the float SiLU op's own), then the scale.
template <bool kSilu, int U>
inline void output_block(__m512 (&v)[U], __m512i (&q)[U], const Step& o) {
  for (int j = 0; j < U; ++j) v[j] = nan_to_zero(v[j]);
  if (kSilu) {
    silu_block(v);
    for (int j = 0; j < U; ++j) v[j] = nan_to_zero(_mm512_mul_ps(v[j], o.inverse_scale));
  } else {
    for (int j = 0; j < U; ++j) v[j] = _mm512_mul_ps(v[j], o.inverse_scale);
  }
  for (int j = 0; j < U; ++j) v[j] = _mm512_min_ps(_mm512_max_ps(v[j], o.low), o.high);
  for (int j = 0; j < U; ++j) q[j] = _mm512_add_epi32(_mm512_cvtps_epi32(v[j]), o.zero_point);
}

inline __m512 affine16(__m128i x8, __m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_mul_ps(a, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(x8))), b);
}

// Channels-last rows: a and b per channel; 16 channels of 4 pixels at a
// time, then what is left (channels past the last 16, the last pixels)
// with masks.
template <bool kSilu>
void rows(const int8_t* x, int8_t* y, const float* a, const float* b, size_t channels, size_t pixels, const Step o) {
  const size_t full = channels / 16 * 16, quads = pixels / 4 * 4;
  for (size_t p = 0; p < quads; p += 4)
    for (size_t c0 = 0; c0 < full; c0 += 16) {
      const __m512 a16 = _mm512_loadu_ps(a + c0), b16 = _mm512_loadu_ps(b + c0);
      __m512 v[4];
      __m512i q[4];
      for (int j = 0; j < 4; ++j)
        v[j] = affine16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + (p + j) * channels + c0)), a16, b16);
      output_block<kSilu>(v, q, o);
      for (int j = 0; j < 4; ++j)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + (p + j) * channels + c0), _mm512_cvtepi32_epi8(q[j]));
    }
  for (size_t p = 0; p < pixels; ++p)
    for (size_t c0 = p < quads ? full : 0; c0 < channels; c0 += 16) {
      const __mmask16 lanes = first_lanes(channels - c0);
      __m512 v[1] = {affine16(_mm_maskz_loadu_epi8(lanes, x + p * channels + c0),
                              _mm512_maskz_loadu_ps(lanes, a + c0), _mm512_maskz_loadu_ps(lanes, b + c0))};
      __m512i q[1];
      output_block<kSilu>(v, q, o);
      _mm512_mask_cvtepi32_storeu_epi8(y + p * channels + c0, lanes, q[0]);
    }
}

// A channel-first plane of n values: one a, b; 64 values at a time.
template <bool kSilu>
void plane(const int8_t* x, int8_t* y, float a, float b, size_t n, const Step o) {
  const __m512 a16 = _mm512_set1_ps(a), b16 = _mm512_set1_ps(b);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 v[4];
    __m512i q[4];
    for (int j = 0; j < 4; ++j)
      v[j] = affine16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 16 * j)), a16, b16);
    output_block<kSilu>(v, q, o);
    for (int j = 0; j < 4; ++j)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i + 16 * j), _mm512_cvtepi32_epi8(q[j]));
  }
  for (; i < n; i += 16) {
    const __mmask16 lanes = first_lanes(n - i);
    __m512 v[1] = {affine16(_mm_maskz_loadu_epi8(lanes, x + i), a16, b16)};
    __m512i q[1];
    output_block<kSilu>(v, q, o);
    _mm512_mask_cvtepi32_storeu_epi8(y + i, lanes, q[0]);
  }
}

}  // namespace

bool has_group_norm_int8_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

void accumulate_rows_avx512(const int8_t* x, int32_t* sums, int32_t* squares, size_t channels, size_t pixels) {
  for (size_t c0 = 0; c0 < channels; c0 += 16) {
    const __mmask16 lanes = first_lanes(channels - c0);
    __m512i sum = _mm512_setzero_si512(), square = _mm512_setzero_si512();
    for (size_t p = 0; p < pixels; ++p) {
      const __m512i v = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, x + p * channels + c0));
      sum = _mm512_add_epi32(sum, v);
      square = _mm512_add_epi32(square, _mm512_mullo_epi32(v, v));
    }
    _mm512_mask_storeu_epi32(sums + c0, lanes, _mm512_add_epi32(_mm512_maskz_loadu_epi32(lanes, sums + c0), sum));
    _mm512_mask_storeu_epi32(squares + c0, lanes,
                             _mm512_add_epi32(_mm512_maskz_loadu_epi32(lanes, squares + c0), square));
  }
}

void normalize_rows_avx512(const int8_t* x, int8_t* y, const float* a, const float* b, size_t a_stride,
                           size_t channels, size_t pixels, const OutputStepAvx512& o) {
  const Step step(o);
  if (a_stride == 0) {
    for (size_t p = 0; p < pixels; ++p, x += channels, y += channels) {
      if (o.silu) plane<true>(x, y, a[0], b[0], channels, step);
      else plane<false>(x, y, a[0], b[0], channels, step);
    }
  } else if (o.silu) {
    rows<true>(x, y, a, b, channels, pixels, step);
  } else {
    rows<false>(x, y, a, b, channels, pixels, step);
  }
}

}  // namespace simd
}  // namespace edgegen

#pragma GCC diagnostic pop
#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {

bool has_group_norm_int8_avx512() { return false; }
void accumulate_rows_avx512(const int8_t*, int32_t*, int32_t*, size_t, size_t) {}
void normalize_rows_avx512(const int8_t*, int8_t*, const float*, const float*, size_t, size_t, size_t,
                           const OutputStepAvx512&) {}

}  // namespace simd
}  // namespace edgegen

#endif
