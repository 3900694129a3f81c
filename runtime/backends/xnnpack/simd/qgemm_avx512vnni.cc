// The int8 matrix product with AVX-512 VNNI: vpdpbusd multiplies 4 unsigned
// bytes by 4 signed bytes and adds the four products to a 32-bit lane, so a
// zmm register holds 16 output columns and one instruction does 64
// multiply-adds. The activations are made unsigned by flipping their sign
// bit (a + 128); the packed corrections subtract 128 * sum_k B[k, n].
//
// Register tile: kRows rows x 64 columns (4 zmm per row) of int32
// accumulators, initialized with the corrections; per group of 4 k, 4 loads
// of B and one 4-byte broadcast of A per row.
//
// kAvx512Vnni32 and kAvx512Vnni16 are the same kernel with 2 zmm (32
// columns) and 1 zmm (16) per row. The narrow variant (kAvx512VnniNarrow,
// N <= kQGemmNarrowMaxN) puts 16 rows in the lanes instead: see run_narrow().
//
// Only this file is compiled for AVX-512 (a target pragma after the
// includes), and nothing here is an inline function of a shared header, so
// no AVX-512 code can be picked by the linker for a caller elsewhere.
#include "backends/xnnpack/simd/qgemm_internal.h"

#if defined(EDGEGEN_QGEMM_X86)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vnni")
// GCC 12's own intrinsics (_mm512_cvtepi32_ps, _mm512_max_ps, ...) start
// from _mm512_undefined_ps(), which -Wmaybe-uninitialized misreads (GCC bug
// 105593, fixed in GCC 13), and -Wuninitialized too where their results
// are folded without a load between (the narrow variant's shuffles).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace edgegen {
namespace simd {
namespace qgemm {

namespace {

constexpr int kRows = 6;

// The column block's layout for kVectors zmm per row (16 columns each):
// kAvx512Vnni (4: 64 columns), kAvx512Vnni32 (2) and kAvx512Vnni16 (1) for
// products of few columns, where a 64-column block would be mostly padding.
template <int kVectors>
constexpr IsaLayout layout_of() {
  return isa_layout(kVectors == 4 ? QGemmIsa::kAvx512Vnni
                                  : kVectors == 2 ? QGemmIsa::kAvx512Vnni32 : QGemmIsa::kAvx512Vnni16);
}
static_assert(layout_of<4>().panel_rows == kRows && layout_of<4>().n_block == 64 && layout_of<4>().k_group == 4 &&
                  layout_of<2>().panel_rows == kRows && layout_of<2>().n_block == 32 &&
                  layout_of<2>().k_group == 4 && layout_of<1>().panel_rows == kRows &&
                  layout_of<1>().n_block == 16 && layout_of<1>().k_group == 4,
              "qgemm_internal.h's layouts match the kernels");

// One row of a register tile: 16 int32 sums per vector, one per column of
// the block. Only the vectors the block has: a tile's rows are copied in
// and out of accumulate(), which for a short K costs as much as the products.
template <int kVectors>
struct Row;
template <>
struct Row<1> {
  __m512i v0;
};
template <>
struct Row<2> {
  __m512i v0, v1;
};
template <>
struct Row<4> {
  __m512i v0, v1, v2, v3;
};

// Rows [m, m + rows) of A, +128, padded to the panel's row length; a row
// in `runs` pieces (QGemmRowRuns) is gathered run after run.
void pack_panel(const int8_t* a, size_t lda, size_t rows, size_t k_size, size_t row_bytes, uint8_t* panel,
                size_t runs = 1, size_t run_stride = 0) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  if (runs > 1 && k_size / runs <= 64) {
    // Runs of one vector or less (a 3x3 window of up to 21 channels): one
    // masked load and store each, the mask made once (the general loop
    // below spent more on its bookkeeping than on the bytes).
    const size_t run_bytes = k_size / runs;
    const __mmask64 valid = run_bytes == 64 ? ~__mmask64{0} : (__mmask64{1} << run_bytes) - 1;
    const size_t pad_from = k_size & ~size_t{63};
    for (size_t r = 0; r < rows; ++r) {
      uint8_t* dst = panel + r * row_bytes;
      const int8_t* src = a + r * lda;
      for (size_t k = pad_from; k < row_bytes; k += 64) _mm512_storeu_si512(dst + k, flip);
      for (size_t run = 0; run < runs; ++run)
        _mm512_mask_storeu_epi8(dst + run * run_bytes, valid,
                                _mm512_xor_si512(_mm512_maskz_loadu_epi8(valid, src + run * run_stride), flip));
    }
    return;
  }
  if (runs > 1) {
    const size_t run_bytes = k_size / runs;
    for (size_t r = 0; r < rows; ++r) {
      uint8_t* dst = panel + r * row_bytes;
      // The padding past K first (0x80, harmless against zero weights), then the runs over it.
      for (size_t k = k_size & ~size_t{63}; k < row_bytes; k += 64) _mm512_storeu_si512(dst + k, flip);
      for (size_t run = 0; run < runs; ++run, dst += run_bytes) {
        const int8_t* src = a + r * lda + run * run_stride;
        for (size_t k = 0; k < run_bytes; k += 64) {
          const size_t left = run_bytes - k;
          const __mmask64 valid = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
          _mm512_mask_storeu_epi8(dst + k, valid, _mm512_xor_si512(_mm512_maskz_loadu_epi8(valid, src + k), flip));
        }
      }
    }
    return;
  }
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* src = a + r * lda;
    uint8_t* dst = panel + r * row_bytes;
    for (size_t k = 0; k < row_bytes; k += 64) {
      const size_t left = k < k_size ? k_size - k : 0;
      const __mmask64 valid = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
      // The padding becomes 0x80: any value is harmless against zero weights.
      _mm512_storeu_si512(dst + k, _mm512_xor_si512(_mm512_maskz_loadu_epi8(valid, src + k), flip));
    }
  }
}

// The fp32 requantization of 16 sums, as qgemm_internal.h's requantize().
inline __m512i requantize(__m512i acc, __m512 scale, const RequantConstants& k) {
  __m512 value = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
  value = _mm512_max_ps(_mm512_mul_ps(value, _mm512_set1_ps(k.negative_slope)), value);
  value = _mm512_max_ps(value, _mm512_set1_ps(k.min_less_zero_point));
  value = _mm512_min_ps(value, _mm512_set1_ps(k.max_less_zero_point));
  value = _mm512_add_ps(value, _mm512_set1_ps(kMagicBias));
  return _mm512_sub_epi32(_mm512_castps_si512(value), _mm512_set1_epi32(k.magic_less_zero_point));
}

// Writes the accumulators of one row, columns where `mask` is set.
template <int kVectors, bool kInt8Output>
inline void store_row(const Row<kVectors>& acc, uint64_t mask, uint8_t* c_row, const __m512* scale,
                      const RequantConstants& k) {
  if constexpr (kInt8Output && kVectors == 4) {
    // The 64 values are in [-128, 127] already: the saturating packs only
    // narrow them, within 128-bit lanes (lane l of the result holds lane l
    // of each vector), and the permutation puts the 4-byte groups back in
    // column order. (vpmovdb to memory is microcoded on AMD: 2.5x slower.)
    const __m512i words01 = _mm512_packs_epi32(requantize(acc.v0, scale[0], k), requantize(acc.v1, scale[1], k));
    const __m512i words23 = _mm512_packs_epi32(requantize(acc.v2, scale[2], k), requantize(acc.v3, scale[3], k));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i bytes = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(words01, words23));
    _mm512_mask_storeu_epi8(c_row, mask, bytes);
  } else if constexpr (kInt8Output) {
    // Fewer than 64 columns: the same packs against zeros; the 4-byte
    // groups of the live vectors land in lanes 0, 4, 8, 12 (and 1, 5, 9, 13).
    const __m512i zero = _mm512_setzero_si512();
    __m512i v1 = zero;
    if constexpr (kVectors == 2) v1 = requantize(acc.v1, scale[1], k);
    const __m512i words = _mm512_packs_epi32(requantize(acc.v0, scale[0], k), v1);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i bytes = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(words, zero));
    _mm512_mask_storeu_epi8(c_row, mask, bytes);
  } else {
    auto* out = reinterpret_cast<int32_t*>(c_row);
    _mm512_mask_storeu_epi32(out, static_cast<__mmask16>(mask), acc.v0);
    if constexpr (kVectors > 1) _mm512_mask_storeu_epi32(out + 16, static_cast<__mmask16>(mask >> 16), acc.v1);
    if constexpr (kVectors > 2) {
      _mm512_mask_storeu_epi32(out + 32, static_cast<__mmask16>(mask >> 32), acc.v2);
      _mm512_mask_storeu_epi32(out + 48, static_cast<__mmask16>(mask >> 48), acc.v3);
    }
  }
}

// sum += A[row, 4g .. 4g + 3] . B[4g .. 4g + 3, block's columns]
template <int kVectors>
__attribute__((always_inline)) inline void multiply_add(Row<kVectors>& sum, const uint8_t* a, __m512i b0,
                                                        __m512i b1, __m512i b2, __m512i b3) {
  int32_t four;
  __builtin_memcpy(&four, a, 4);
  const __m512i a4 = _mm512_set1_epi32(four);
  sum.v0 = _mm512_dpbusd_epi32(sum.v0, a4, b0);
  if constexpr (kVectors > 1) sum.v1 = _mm512_dpbusd_epi32(sum.v1, a4, b1);
  if constexpr (kVectors > 2) {
    sum.v2 = _mm512_dpbusd_epi32(sum.v2, a4, b2);
    sum.v3 = _mm512_dpbusd_epi32(sum.v3, a4, b3);
  }
}

// Adds one block's products over all of K to the first kRowsHere rows of
// acc. The rows are named variables, not an array, and the function is not
// inlined: either way GCC 12 would shuffle the 24 accumulators between
// registers (and the stack) every iteration, at less than half the speed.
template <int kVectors, int kRowsHere>
__attribute__((noinline)) void accumulate(const uint8_t* panel, size_t row_bytes, const int8_t* block,
                                          size_t groups, Row<kVectors>* acc) {
  static_assert(kRowsHere >= 1 && kRowsHere <= 6, "up to 6 rows");
  constexpr size_t kGroupBytes = 64 * kVectors;
  Row<kVectors> s0 = acc[0], s1{}, s2{}, s3{}, s4{}, s5{};
  if (kRowsHere > 1) s1 = acc[1];
  if (kRowsHere > 2) s2 = acc[2];
  if (kRowsHere > 3) s3 = acc[3];
  if (kRowsHere > 4) s4 = acc[4];
  if (kRowsHere > 5) s5 = acc[5];
  const __m512i none = _mm512_setzero_si512();
  for (size_t g = 0; g < groups; ++g, panel += 4, block += kGroupBytes) {
    const __m512i b0 = _mm512_loadu_si512(block);
    const __m512i b1 = kVectors > 1 ? _mm512_loadu_si512(block + 64) : none;
    const __m512i b2 = kVectors > 2 ? _mm512_loadu_si512(block + 128) : none;
    const __m512i b3 = kVectors > 2 ? _mm512_loadu_si512(block + 192) : none;
    multiply_add<kVectors>(s0, panel, b0, b1, b2, b3);
    if (kRowsHere > 1) multiply_add<kVectors>(s1, panel + row_bytes, b0, b1, b2, b3);
    if (kRowsHere > 2) multiply_add<kVectors>(s2, panel + 2 * row_bytes, b0, b1, b2, b3);
    if (kRowsHere > 3) multiply_add<kVectors>(s3, panel + 3 * row_bytes, b0, b1, b2, b3);
    if (kRowsHere > 4) multiply_add<kVectors>(s4, panel + 4 * row_bytes, b0, b1, b2, b3);
    if (kRowsHere > 5) multiply_add<kVectors>(s5, panel + 5 * row_bytes, b0, b1, b2, b3);
  }
  acc[0] = s0;
  if (kRowsHere > 1) acc[1] = s1;
  if (kRowsHere > 2) acc[2] = s2;
  if (kRowsHere > 3) acc[3] = s3;
  if (kRowsHere > 4) acc[4] = s4;
  if (kRowsHere > 5) acc[5] = s5;
}

// One register tile: the corrections, the products, the stores.
template <int kVectors, int kRowsHere, bool kInt8Output>
void tile(const RowSource& rows, const int8_t* block, const int32_t* corrections, uint64_t mask, uint8_t* c,
          size_t c_row_bytes, const __m512* scale, const RequantConstants& k) {
  Row<kVectors> correction;
  correction.v0 = _mm512_loadu_si512(corrections);
  if constexpr (kVectors > 1) correction.v1 = _mm512_loadu_si512(corrections + 16);
  if constexpr (kVectors > 2) {
    correction.v2 = _mm512_loadu_si512(corrections + 32);
    correction.v3 = _mm512_loadu_si512(corrections + 48);
  }
  Row<kVectors> acc[kRowsHere];
  for (int r = 0; r < kRowsHere; ++r) acc[r] = correction;
  for (size_t run = 0; run < rows.runs; ++run)
    accumulate<kVectors, kRowsHere>(rows.first + run * rows.run_stride, rows.row_bytes,
                                    block + run * rows.run_groups * 64 * kVectors, rows.run_groups, acc);
  for (int r = 0; r < kRowsHere; ++r)
    store_row<kVectors, kInt8Output>(acc[r], mask, c + r * c_row_bytes, scale, k);
}

template <int kVectors, bool kInt8Output>
void run(const RunArgs& args) {
  constexpr size_t nr = 16 * kVectors;
  constexpr size_t out_bytes = kInt8Output ? 1 : 4;
  const PackedHeader& h = *args.header;
  const size_t row_bytes = panel_row_bytes(layout_of<kVectors>(), h.k);
  const size_t groups = h.k_padded / 4;
  auto* panel = static_cast<uint8_t*>(args.scratch);
  auto* c = static_cast<uint8_t*>(args.c);
  RequantConstants constants{};
  if (kInt8Output) constants = requant_constants(*args.requantization);
  for (size_t m = args.m_begin; m < args.m_end; m += kRows) {
    const size_t rows = args.m_end - m < kRows ? args.m_end - m : kRows;
    // In place: the caller's runs, already +128 (qgemm_in_place_unsigned).
    if (!args.in_place)
      pack_panel(args.a + m * args.lda, args.lda, rows, h.k, row_bytes, panel, args.runs, args.run_stride);
    const RowSource source = row_source(args, layout_of<kVectors>(), m, panel, row_bytes, groups);
    for (size_t block = args.n_begin / nr; block * nr < args.n_end; ++block) {
      const size_t first = block * nr;
      const size_t lo = args.n_begin > first ? args.n_begin - first : 0;
      const size_t hi = args.n_end - first < nr ? args.n_end - first : nr;
      const uint64_t mask = (hi == 64 ? ~uint64_t{0} : (uint64_t{1} << hi) - 1) & ~((uint64_t{1} << lo) - 1);
      __m512 scale[4] = {};
      if (kInt8Output)
        for (int v = 0; v < kVectors; ++v)
          scale[v] = _mm512_maskz_loadu_ps(static_cast<__mmask16>(mask >> (16 * v)),
                                           args.requantization->scale + first + 16 * v);
      const int8_t* weights = args.weights + block * h.block_bytes;
      const int32_t* corrections = args.corrections + first;
      uint8_t* c_tile = c + (m * args.ldc + first) * out_bytes;
      const size_t c_row_bytes = args.ldc * out_bytes;
      switch (rows) {
#define EDGEGEN_QGEMM_TILE(R)                                                                                    \
  case R:                                                                                                        \
    tile<kVectors, R, kInt8Output>(source, weights, corrections, mask, c_tile, c_row_bytes, scale, constants); \
    break;
        EDGEGEN_QGEMM_TILE(1)
        EDGEGEN_QGEMM_TILE(2)
        EDGEGEN_QGEMM_TILE(3)
        EDGEGEN_QGEMM_TILE(4)
        EDGEGEN_QGEMM_TILE(5)
        EDGEGEN_QGEMM_TILE(6)
#undef EDGEGEN_QGEMM_TILE
      }
    }
  }
}

// The narrow variant, for a handful of columns (an image decoder's last
// layer, N = 1-3): a block of 64 or 16 columns would be nearly all padding.
// Rows go in the lanes instead. Each column's weights are K contiguous
// bytes (padded to 64 with zeros); a panel of 16 rows is multiplied with
// them 64 k at a time, one vpdpbusd per row (16 lanes of 4 products), and
// the 16 rows' vectors are then folded into one whose lane r is row r's
// sum: 45 shuffles and adds per 16 sums, against 16 vpdpbusd per 64 k.
constexpr int kNarrowRows = 16;
constexpr IsaLayout kNarrowLayout = isa_layout(QGemmIsa::kAvx512VnniNarrow);
static_assert(kNarrowLayout.panel_rows == kNarrowRows && kNarrowLayout.n_block == 1 &&
                  kNarrowLayout.k_group == 64 && kNarrowLayout.unsigned_a,
              "qgemm_internal.h's narrow layout matches the kernel");

// Two vectors of partial sums, a's and b's, into one: lanes a, b, a, b in
// every 128 bits (lane pairs of each added).
inline __m512i fold32(__m512i a, __m512i b) {
  return _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
}
// Two of fold32's into lanes a, b, c, d in every 128 bits.
inline __m512i fold64(__m512i ab, __m512i cd) {
  return _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
}
// 128-bit lanes 0 + 1 and 2 + 3 of x, then those of y.
inline __m512i fold128(__m512i x, __m512i y) {
  return _mm512_add_epi32(_mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}

// acc += a (unsigned) . b (signed), 4 bytes per lane, in place: GCC 12
// computes _mm512_dpbusd_epi32 into a fresh register and copies it back,
// which with 16 accumulators costs 16 moves and a spill per iteration.
__attribute__((always_inline)) inline void dpbusd(__m512i& acc, __m512i a, __m512i b) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
}

// Lane r: sum over the panel's row r (K_p bytes, +128) times one column's
// weights, without the correction. Named accumulators, as in accumulate().
__attribute__((noinline)) __m512i dot16(const uint8_t* panel, size_t row_bytes, const int8_t* column,
                                         size_t chunks) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  __m512i s8 = s0, s9 = s0, s10 = s0, s11 = s0, s12 = s0, s13 = s0, s14 = s0, s15 = s0;
  const uint8_t* r0 = panel;
  const uint8_t* r4 = panel + 4 * row_bytes;
  const uint8_t* r8 = panel + 8 * row_bytes;
  const uint8_t* r12 = panel + 12 * row_bytes;
  const size_t r1 = row_bytes, r2 = 2 * row_bytes, r3 = 3 * row_bytes;
  for (size_t c = 0; c < chunks; ++c, r0 += 64, r4 += 64, r8 += 64, r12 += 64, column += 64) {
    const __m512i b = _mm512_load_si512(column);
    dpbusd(s0, _mm512_loadu_si512(r0), b);
    dpbusd(s1, _mm512_loadu_si512(r0 + r1), b);
    dpbusd(s2, _mm512_loadu_si512(r0 + r2), b);
    dpbusd(s3, _mm512_loadu_si512(r0 + r3), b);
    dpbusd(s4, _mm512_loadu_si512(r4), b);
    dpbusd(s5, _mm512_loadu_si512(r4 + r1), b);
    dpbusd(s6, _mm512_loadu_si512(r4 + r2), b);
    dpbusd(s7, _mm512_loadu_si512(r4 + r3), b);
    dpbusd(s8, _mm512_loadu_si512(r8), b);
    dpbusd(s9, _mm512_loadu_si512(r8 + r1), b);
    dpbusd(s10, _mm512_loadu_si512(r8 + r2), b);
    dpbusd(s11, _mm512_loadu_si512(r8 + r3), b);
    dpbusd(s12, _mm512_loadu_si512(r12), b);
    dpbusd(s13, _mm512_loadu_si512(r12 + r1), b);
    dpbusd(s14, _mm512_loadu_si512(r12 + r2), b);
    dpbusd(s15, _mm512_loadu_si512(r12 + r3), b);
  }
  const __m512i rows0to7 = fold128(fold64(fold32(s0, s1), fold32(s2, s3)), fold64(fold32(s4, s5), fold32(s6, s7)));
  const __m512i rows8to15 =
      fold128(fold64(fold32(s8, s9), fold32(s10, s11)), fold64(fold32(s12, s13), fold32(s14, s15)));
  return fold128(rows0to7, rows8to15);
}

template <bool kInt8Output>
void run_narrow(const RunArgs& args) {
  const PackedHeader& h = *args.header;
  const size_t row_bytes = panel_row_bytes(kNarrowLayout, h.k);
  const size_t chunks = h.k_padded / 64;
  auto* panel = static_cast<uint8_t*>(args.scratch);
  RequantConstants constants{};
  if (kInt8Output) constants = requant_constants(*args.requantization);
  for (size_t m = args.m_begin; m < args.m_end; m += kNarrowRows) {
    const size_t rows = args.m_end - m < kNarrowRows ? args.m_end - m : kNarrowRows;
    pack_panel(args.a + m * args.lda, args.lda, rows, h.k, row_bytes, panel, args.runs, args.run_stride);
    // Rows past the tile: computed, never stored.
    if (rows < kNarrowRows) std::memset(panel + rows * row_bytes, 0, (kNarrowRows - rows) * row_bytes);
    const __mmask16 valid = static_cast<__mmask16>((1u << rows) - 1);
    for (size_t n = args.n_begin; n < args.n_end; ++n) {
      const __m512i sums = _mm512_add_epi32(dot16(panel, row_bytes, args.weights + n * h.block_bytes, chunks),
                                            _mm512_set1_epi32(args.corrections[n]));
      if (kInt8Output) {
        const __m512 scale = _mm512_set1_ps(args.requantization->scale[n]);
        const __m512i bytes = _mm512_zextsi128_si512(_mm512_cvtepi32_epi8(requantize(sums, scale, constants)));
        int8_t* out = static_cast<int8_t*>(args.c) + m * args.ldc + n;
        if (args.ldc == 1) {
          _mm512_mask_storeu_epi8(out, valid, bytes);
        } else {
          alignas(64) int8_t values[64];
          _mm512_store_si512(values, bytes);
          for (size_t r = 0; r < rows; ++r) out[r * args.ldc] = values[r];
        }
      } else {
        int32_t* out = static_cast<int32_t*>(args.c) + m * args.ldc + n;
        if (args.ldc == 1) {
          _mm512_mask_storeu_epi32(out, valid, sums);
        } else {
          alignas(64) int32_t values[kNarrowRows];
          _mm512_store_si512(values, sums);
          for (size_t r = 0; r < rows; ++r) out[r * args.ldc] = values[r];
        }
      }
    }
  }
}

}  // namespace

void run_avx512vnni(const RunArgs& args) {
  if (args.requantization)
    run<4, true>(args);
  else
    run<4, false>(args);
}

void run_avx512vnni32(const RunArgs& args) {
  if (args.requantization)
    run<2, true>(args);
  else
    run<2, false>(args);
}

void run_avx512vnni16(const RunArgs& args) {
  if (args.requantization)
    run<1, true>(args);
  else
    run<1, false>(args);
}

void run_avx512vnni_narrow(const RunArgs& args) {
  if (args.requantization)
    run_narrow<true>(args);
  else
    run_narrow<false>(args);
}

}  // namespace qgemm
}  // namespace simd
}  // namespace edgegen

#pragma GCC diagnostic pop
#pragma GCC pop_options

#endif  // EDGEGEN_QGEMM_X86
