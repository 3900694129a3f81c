// The int8 matrix product on 256-bit x86 vectors, two kernels sharing one
// tile loop and one requantization:
//
//  - AVX-VNNI: vpdpbusd (VEX) multiplies 4 unsigned bytes of A (made
//    unsigned by +128) by 4 signed bytes of B and adds them to an int32
//    lane: 8 columns x 4 k per instruction.
//  - AVX2: A is widened to int16 in the panel and B as it is loaded;
//    vpmaddwd multiplies pairs and adds them to int32 lanes (8 columns x 2 k),
//    exactly. (vpmaddubsw would be one instruction less, but it saturates
//    its int16 sums.)
//
// Register tiles of kRows rows x 16 columns (2 ymm per row) of int32 sums.
// This file is compiled for AVX2 (a target pragma after the includes), the
// AVX-VNNI kernel alone for AVX2 + AVX-VNNI: with AVX-VNNI enabled GCC
// could turn the AVX2 kernel's vpmaddwd + vpaddd into vpdpwssd.
#include "backends/xnnpack/simd/qgemm_internal.h"

#if defined(EDGEGEN_QGEMM_X86)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2")

namespace edgegen {
namespace simd {
namespace qgemm {

namespace {

constexpr size_t kColumns = 16;

// One row of a register tile: 16 int32 sums, one per column of the block.
// (Named rows, not arrays of vectors, and accumulate() not inlined: GCC 12
// otherwise shuffles the accumulators between registers every iteration.)
struct Row {
  __m256i v0, v1;
};

inline Row load_row(const int32_t* values) {
  return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(values)),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + 8))};
}

inline __m256i broadcast4(const void* bytes) {
  int32_t four;
  __builtin_memcpy(&four, bytes, 4);
  return _mm256_set1_epi32(four);
}

struct Avx2Kernel {
  static constexpr IsaLayout kLayout = isa_layout(QGemmIsa::kAvx2);
  static_assert(kLayout.n_block == kColumns && kLayout.k_group == 2 && kLayout.a_bytes == 2, "layout");

  // Rows of A widened to int16, zero-padded to the row length; a row in
  // `runs` pieces (QGemmRowRuns) is gathered run after run.
  static void pack_panel(const int8_t* a, size_t lda, size_t rows, size_t k_size, size_t row_bytes,
                         uint8_t* panel, size_t runs, size_t run_stride) {
    const size_t run_bytes = k_size / runs;
    for (size_t r = 0; r < rows; ++r) {
      auto* dst = reinterpret_cast<int16_t*>(panel + r * row_bytes);
      for (size_t run = 0; run < runs; ++run) {
        const int8_t* src = a + r * lda + run * run_stride;
        int16_t* to = dst + run * run_bytes;
        size_t k = 0;
        for (; k + 16 <= run_bytes; k += 16)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + k),
                              _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k))));
        for (; k < run_bytes; ++k) to[k] = src[k];
      }
      for (size_t k = k_size; k < row_bytes / 2; ++k) dst[k] = 0;
    }
  }

  // sum += A[row, 2g], A[row, 2g + 1] (int16) . B[2g, 2g + 1][16 columns]
  __attribute__((always_inline)) static void multiply_add(Row& sum, const uint8_t* a, __m256i b0, __m256i b1) {
    const __m256i a2 = broadcast4(a);
    sum.v0 = _mm256_add_epi32(sum.v0, _mm256_madd_epi16(a2, b0));
    sum.v1 = _mm256_add_epi32(sum.v1, _mm256_madd_epi16(a2, b1));
  }

  template <int kRows>
  __attribute__((noinline)) static void accumulate(const uint8_t* panel, size_t row_bytes, const int8_t* block,
                                                   size_t groups, Row* acc) {
    static_assert(kRows >= 1 && kRows <= 4, "up to 4 rows");
    Row s0 = acc[0], s1{}, s2{}, s3{};
    if (kRows > 1) s1 = acc[1];
    if (kRows > 2) s2 = acc[2];
    if (kRows > 3) s3 = acc[3];
    for (size_t g = 0; g < groups; ++g, panel += 4, block += 32) {
      const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)));
      const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16)));
      multiply_add(s0, panel, b0, b1);
      if (kRows > 1) multiply_add(s1, panel + row_bytes, b0, b1);
      if (kRows > 2) multiply_add(s2, panel + 2 * row_bytes, b0, b1);
      if (kRows > 3) multiply_add(s3, panel + 3 * row_bytes, b0, b1);
    }
    acc[0] = s0;
    if (kRows > 1) acc[1] = s1;
    if (kRows > 2) acc[2] = s2;
    if (kRows > 3) acc[3] = s3;
  }
};

struct AvxVnniKernel {
  static constexpr IsaLayout kLayout = isa_layout(QGemmIsa::kAvxVnni);
  static_assert(kLayout.n_block == kColumns && kLayout.k_group == 4 && kLayout.a_bytes == 1, "layout");

  // Rows of A, +128, padded to the row length (any padding value is
  // harmless against the zero weights there); a row in `runs` pieces
  // (QGemmRowRuns) is gathered run after run.
  static void pack_panel(const int8_t* a, size_t lda, size_t rows, size_t k_size, size_t row_bytes,
                         uint8_t* panel, size_t runs, size_t run_stride) {
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    const size_t run_bytes = k_size / runs;
    for (size_t r = 0; r < rows; ++r) {
      uint8_t* dst = panel + r * row_bytes;
      for (size_t run = 0; run < runs; ++run) {
        const int8_t* src = a + r * lda + run * run_stride;
        uint8_t* to = dst + run * run_bytes;
        size_t k = 0;
        for (; k + 32 <= run_bytes; k += 32)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + k),
                              _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + k)), flip));
        for (; k < run_bytes; ++k) to[k] = static_cast<uint8_t>(src[k]) ^ 0x80;
      }
      for (size_t k = k_size; k < row_bytes; ++k) dst[k] = 0;
    }
  }

  // sum += A[row, 4g .. 4g + 3] (+128) . B[4g .. 4g + 3][16 columns]
  __attribute__((always_inline, target("avx2,avxvnni"))) static void multiply_add(Row& sum, const uint8_t* a,
                                                                                 __m256i b0, __m256i b1) {
    const __m256i a4 = broadcast4(a);
    sum.v0 = _mm256_dpbusd_avx_epi32(sum.v0, a4, b0);
    sum.v1 = _mm256_dpbusd_avx_epi32(sum.v1, a4, b1);
  }

  template <int kRows>
  __attribute__((noinline, target("avx2,avxvnni"))) static void accumulate(const uint8_t* panel, size_t row_bytes,
                                                                          const int8_t* block, size_t groups,
                                                                          Row* acc) {
    static_assert(kRows >= 1 && kRows <= 6, "up to 6 rows");
    Row s0 = acc[0], s1{}, s2{}, s3{}, s4{}, s5{};
    if (kRows > 1) s1 = acc[1];
    if (kRows > 2) s2 = acc[2];
    if (kRows > 3) s3 = acc[3];
    if (kRows > 4) s4 = acc[4];
    if (kRows > 5) s5 = acc[5];
    for (size_t g = 0; g < groups; ++g, panel += 4, block += 64) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block));
      const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32));
      multiply_add(s0, panel, b0, b1);
      if (kRows > 1) multiply_add(s1, panel + row_bytes, b0, b1);
      if (kRows > 2) multiply_add(s2, panel + 2 * row_bytes, b0, b1);
      if (kRows > 3) multiply_add(s3, panel + 3 * row_bytes, b0, b1);
      if (kRows > 4) multiply_add(s4, panel + 4 * row_bytes, b0, b1);
      if (kRows > 5) multiply_add(s5, panel + 5 * row_bytes, b0, b1);
    }
    acc[0] = s0;
    if (kRows > 1) acc[1] = s1;
    if (kRows > 2) acc[2] = s2;
    if (kRows > 3) acc[3] = s3;
    if (kRows > 4) acc[4] = s4;
    if (kRows > 5) acc[5] = s5;
  }
};

// The fp32 requantization of 8 sums, as qgemm_internal.h's requantize().
inline __m256i requantize(__m256i acc, __m256 scale, const RequantConstants& k) {
  __m256 value = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
  value = _mm256_max_ps(_mm256_mul_ps(value, _mm256_set1_ps(k.negative_slope)), value);
  value = _mm256_max_ps(value, _mm256_set1_ps(k.min_less_zero_point));
  value = _mm256_min_ps(value, _mm256_set1_ps(k.max_less_zero_point));
  value = _mm256_add_ps(value, _mm256_set1_ps(kMagicBias));
  return _mm256_sub_epi32(_mm256_castps_si256(value), _mm256_set1_epi32(k.magic_less_zero_point));
}

// Writes columns [lo, hi) of one row's 16 sums; c_row points at column 0 of the block.
template <bool kInt8Output>
inline void store_row(const Row& acc, size_t lo, size_t hi, uint8_t* c_row, const __m256* scale,
                      const RequantConstants& k) {
  const bool whole = lo == 0 && hi == kColumns;
  if (kInt8Output) {
    // The values are in [-128, 127] already: the saturating packs only
    // narrow. packs work within 128-bit lanes; the permutation puts the
    // 4-byte groups back in column order.
    const __m256i words = _mm256_packs_epi32(requantize(acc.v0, scale[0], k), requantize(acc.v1, scale[1], k));
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(words, words),
                                                      _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    const __m128i row = _mm256_castsi256_si128(bytes);
    if (whole) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(c_row), row);
    } else {
      alignas(16) uint8_t values[kColumns];
      _mm_store_si128(reinterpret_cast<__m128i*>(values), row);
      for (size_t j = lo; j < hi; ++j) c_row[j] = values[j];
    }
  } else {
    auto* c32 = reinterpret_cast<int32_t*>(c_row);
    if (whole) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c32), acc.v0);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c32 + 8), acc.v1);
    } else {
      alignas(32) int32_t values[kColumns];
      _mm256_store_si256(reinterpret_cast<__m256i*>(values), acc.v0);
      _mm256_store_si256(reinterpret_cast<__m256i*>(values + 8), acc.v1);
      for (size_t j = lo; j < hi; ++j) c32[j] = values[j];
    }
  }
}

template <typename Kernel, int kRows, bool kInt8Output>
void tile(const RowSource& rows, const int8_t* block, const int32_t* corrections, size_t lo, size_t hi, uint8_t* c,
          size_t c_row_bytes, const __m256* scale, const RequantConstants& k) {
  Row acc[kRows];
  const Row correction = load_row(corrections);
  for (int r = 0; r < kRows; ++r) acc[r] = correction;
  constexpr size_t kGroupBytes = Kernel::kLayout.n_block * Kernel::kLayout.k_group;
  for (size_t run = 0; run < rows.runs; ++run)
    Kernel::template accumulate<kRows>(rows.first + run * rows.run_stride, rows.row_bytes,
                                       block + run * rows.run_groups * kGroupBytes, rows.run_groups, acc);
  for (int r = 0; r < kRows; ++r) store_row<kInt8Output>(acc[r], lo, hi, c + r * c_row_bytes, scale, k);
}

template <typename Kernel, bool kInt8Output>
void run(const RunArgs& args) {
  constexpr size_t kPanelRows = Kernel::kLayout.panel_rows;
  constexpr size_t out_bytes = kInt8Output ? 1 : 4;
  const PackedHeader& h = *args.header;
  const size_t row_bytes = panel_row_bytes(Kernel::kLayout, h.k);
  const size_t groups = h.k_padded / Kernel::kLayout.k_group;
  auto* panel = static_cast<uint8_t*>(args.scratch);
  auto* c = static_cast<uint8_t*>(args.c);
  RequantConstants constants{};
  if (kInt8Output) constants = requant_constants(*args.requantization);
  for (size_t m = args.m_begin; m < args.m_end; m += kPanelRows) {
    const size_t rows = args.m_end - m < kPanelRows ? args.m_end - m : kPanelRows;
    // In place (AVX-VNNI only): the caller's runs, already +128.
    if (!args.in_place)
      Kernel::pack_panel(args.a + m * args.lda, args.lda, rows, h.k, row_bytes, panel, args.runs, args.run_stride);
    const RowSource source = row_source(args, Kernel::kLayout, m, panel, row_bytes, groups);
    for (size_t block = args.n_begin / kColumns; block * kColumns < args.n_end; ++block) {
      const size_t first = block * kColumns;
      const size_t lo = args.n_begin > first ? args.n_begin - first : 0;
      const size_t hi = args.n_end - first < kColumns ? args.n_end - first : kColumns;
      __m256 scale[2] = {};
      if (kInt8Output) {
        const float* column_scale = args.requantization->scale + first;
        if (lo == 0 && hi == kColumns) {
          scale[0] = _mm256_loadu_ps(column_scale);
          scale[1] = _mm256_loadu_ps(column_scale + 8);
        } else {  // only columns [lo, hi) of the caller's array exist
          alignas(32) float values[kColumns] = {};
          for (size_t j = lo; j < hi; ++j) values[j] = column_scale[j];
          scale[0] = _mm256_load_ps(values);
          scale[1] = _mm256_load_ps(values + 8);
        }
      }
      const int8_t* weights = args.weights + block * h.block_bytes;
      const int32_t* corrections = args.corrections + first;
      uint8_t* c_tile = c + (m * args.ldc + first) * out_bytes;
      const size_t c_row_bytes = args.ldc * out_bytes;
      switch (rows) {
#define EDGEGEN_QGEMM_TILE(R)                                                                                   \
  case R:                                                                                                       \
    if constexpr (R <= kPanelRows)                                                                              \
      tile<Kernel, R, kInt8Output>(source, weights, corrections, lo, hi, c_tile, c_row_bytes, scale, constants); \
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

template <typename Kernel>
void run_kernel(const RunArgs& args) {
  if (args.requantization)
    run<Kernel, true>(args);
  else
    run<Kernel, false>(args);
}

}  // namespace

void run_avx2(const RunArgs& args) { run_kernel<Avx2Kernel>(args); }
void run_avxvnni(const RunArgs& args) { run_kernel<AvxVnniKernel>(args); }

}  // namespace qgemm
}  // namespace simd
}  // namespace edgegen

#pragma GCC pop_options

#endif  // EDGEGEN_QGEMM_X86
