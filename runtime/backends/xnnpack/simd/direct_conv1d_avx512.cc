// direct_conv1d.h on AVX-512 (F + VL): blocks of 16 output channels in one
// zmm, 12 rows (12 accumulators of the 32 registers), and the last 8
// channels of a block in ymm, 16 rows. Per multiply-add of 16 lanes one
// broadcast: half the loads of the AVX2 variant per output, which is what
// bounds it on a core that splits 512-bit operations (Zen 4). Compiled for
// AVX-512 (a target pragma after the includes), called only when the CPU
// has it.
#include "backends/xnnpack/simd/direct_conv1d.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx2,fma")
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(),
// which its flow analysis reports as uninitialized (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "backends/xnnpack/simd/direct_conv1d_kernel.h"

namespace edgegen {
namespace simd {

namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V leaky(V x, V slope) {
    return _mm512_mask_mul_ps(x, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGE_UQ), x, slope);
  }
};

struct Ymm {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V leaky(V x, V slope) {
    return _mm256_blendv_ps(_mm256_mul_ps(x, slope), x, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
  }
};

#define EG_PAIR_UNROLL _Pragma("GCC unroll 16")

// 8 channels in, 8 out, consecutive rows (a stride-1 convolution of the
// vocoder's last stage): two rows per zmm. One 64-byte load holds rows r
// and r + 1; a permute spreads channel c of each over its half, and one
// multiply-add of 16 lanes updates both rows. This halves the broadcasts,
// which bound the ymm tile (8 lanes per broadcast). Each lane is the same
// chain of multiply-adds as in the ymm tile: the same bits.
constexpr int kPairs = 8;  // 16 rows per tile

// Eight floats in both halves (AVX-512F only: no DQ's broadcast_f32x8).
inline __m512 twice(const float* p) {
  return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(p))));
}

void pair_tile(const DirectConvRows& a, int64_t first_row) {
  __m512 acc[kPairs];
  const __m512 bias = twice(a.bias);
  EG_PAIR_UNROLL
  for (int p = 0; p < kPairs; ++p) acc[p] = bias;
  __m512i spread[8];
  EG_PAIR_UNROLL
  for (int c = 0; c < 8; ++c)
    spread[c] = _mm512_setr_epi32(c, c, c, c, c, c, c, c, 8 + c, 8 + c, 8 + c, 8 + c, 8 + c, 8 + c, 8 + c, 8 + c);
  const float* x = a.x + first_row * 8;
  for (int64_t t = 0; t < a.taps; ++t) {
    const float* xt = x + t * a.tap_step;
    const float* wt = a.weights + t * 64;
    __m512 rows[kPairs];
    EG_PAIR_UNROLL
    for (int p = 0; p < kPairs; ++p) rows[p] = _mm512_loadu_ps(xt + 16 * p);
    EG_PAIR_UNROLL
    for (int c = 0; c < 8; ++c) {
      const __m512 w = twice(wt + 8 * c);
      EG_PAIR_UNROLL
      for (int p = 0; p < kPairs; ++p) acc[p] = _mm512_fmadd_ps(_mm512_permutexvar_ps(spread[c], rows[p]), w, acc[p]);
    }
  }
  const __m512 low = _mm512_set1_ps(a.out_min), high = _mm512_set1_ps(a.out_max), slope = _mm512_set1_ps(a.leaky_slope);
  EG_PAIR_UNROLL
  for (int p = 0; p < kPairs; ++p) {
    __m512 s = _mm512_min_ps(_mm512_max_ps(acc[p], low), high);
    if (a.leaky) s = Avx512::leaky(s, slope);
    _mm512_storeu_ps(a.y + (first_row + 2 * p) * 8, s);
  }
}

// 16 channels in, 8 out, any row spacing (the vocoder's x4 transposed
// convolution, 16 -> 8): rows r and r + 1 are two loads, and a two-source
// permute picks channel c of each. The permute indices come from memory
// (16 of them would not fit the registers beside the rows).
constexpr int kWidePairs = 6;  // 12 rows per tile

struct alignas(64) Spread16 {
  int32_t index[16][16];
  Spread16() {
    for (int c = 0; c < 16; ++c)
      for (int l = 0; l < 16; ++l) index[c][l] = l < 8 ? c : 16 + c;
  }
};

void pair_tile16(const DirectConvRows& a, int64_t first_row, const Spread16& spread) {
  __m512 acc[kWidePairs];
  const __m512 bias = twice(a.bias);
  EG_PAIR_UNROLL
  for (int p = 0; p < kWidePairs; ++p) acc[p] = bias;
  const float* x = a.x + first_row * a.x_step;
  for (int64_t t = 0; t < a.taps; ++t) {
    const float* xt = x + t * a.tap_step;
    const float* wt = a.weights + t * 128;
    __m512 even[kWidePairs], odd[kWidePairs];
    EG_PAIR_UNROLL
    for (int p = 0; p < kWidePairs; ++p) {
      even[p] = _mm512_loadu_ps(xt + (2 * p) * a.x_step);
      odd[p] = _mm512_loadu_ps(xt + (2 * p + 1) * a.x_step);
    }
    EG_PAIR_UNROLL
    for (int c = 0; c < 16; ++c) {
      const __m512 w = twice(wt + 8 * c);
      const __m512i index = _mm512_load_si512(spread.index[c]);
      EG_PAIR_UNROLL
      for (int p = 0; p < kWidePairs; ++p)
        acc[p] = _mm512_fmadd_ps(_mm512_permutex2var_ps(even[p], index, odd[p]), w, acc[p]);
    }
  }
  const __m512 low = _mm512_set1_ps(a.out_min), high = _mm512_set1_ps(a.out_max), slope = _mm512_set1_ps(a.leaky_slope);
  EG_PAIR_UNROLL
  for (int p = 0; p < kWidePairs; ++p) {
    __m512 s = _mm512_min_ps(_mm512_max_ps(acc[p], low), high);
    if (a.leaky) s = Avx512::leaky(s, slope);
    float* y = a.y + (first_row + 2 * p) * a.y_step;
    _mm256_storeu_ps(y, _mm512_castps512_ps256(s));
    _mm256_storeu_pd(reinterpret_cast<double*>(y + a.y_step), _mm512_extractf64x4_pd(_mm512_castps_pd(s), 1));
  }
}

// Whole pair tiles from row 0, then the rest on the general tiles.
template <class PairTile>
void pairs_then_rest(const DirectConvRows& args, int64_t rows_per_tile, PairTile pair_tile_at) {
  int64_t r = 0;
  for (; r + rows_per_tile <= args.rows; r += rows_per_tile) pair_tile_at(r);
  if (r == args.rows) return;
  DirectConvRows rest = args;
  rest.x += r * args.x_step;
  rest.y += r * args.y_step;
  rest.rows -= r;
  direct_conv::rows<Avx512, 12, 1, Ymm, 8, 1>(rest);
}

}  // namespace

void direct_conv1d_rows_avx512(const DirectConvRows& args) {
  if (args.in_channels == 16 && args.out_channels == 8) {
    static const Spread16 spread;
    pairs_then_rest(args, 2 * kWidePairs, [&](int64_t r) { pair_tile16(args, r, spread); });
    return;
  }
  if (args.in_channels == 8 && args.x_step == 8 && args.out_channels == 8 && args.y_step == 8) {
    int64_t r = 0;
    for (; r + 2 * kPairs <= args.rows; r += 2 * kPairs) pair_tile(args, r);
    if (r == args.rows) return;
    DirectConvRows rest = args;  // the last rows, on the ymm tiles
    rest.x += r * args.x_step;
    rest.y += r * args.y_step;
    rest.rows -= r;
    direct_conv::rows<Avx512, 12, 1, Ymm, 8, 1>(rest);
    return;
  }
  direct_conv::rows<Avx512, 12, 1, Ymm, 8, 1>(args);
}

bool has_direct_conv1d_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma");
}

}  // namespace simd
}  // namespace edgegen

#undef EG_PAIR_UNROLL

#pragma GCC diagnostic pop
#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {

void direct_conv1d_rows_avx512(const DirectConvRows& args) { direct_conv1d_rows_portable(args); }
bool has_direct_conv1d_avx512() { return false; }

}  // namespace simd
}  // namespace edgegen

#endif
