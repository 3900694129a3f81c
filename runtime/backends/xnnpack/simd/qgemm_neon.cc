// The int8 matrix product on AArch64, two kernels sharing one tile loop and
// one requantization:
//
//  - dot product (armv8.2-a+dotprod): sdot multiplies 4 signed bytes of A
//    by 4 of B and adds them to an int32 lane: 4 columns x 4 k per
//    instruction; 16 bytes of A are loaded once for 4 groups of k and used
//    lane by lane (vdotq_laneq_s32).
//  - NEON (every AArch64 CPU): vmull_s8 multiplies 8 pairs of bytes into
//    int16 (exact: at most 128 * 128), vpadalq_s16 adds adjacent pairs into
//    int32 lanes: 4 columns x 2 k per pair of instructions. (Accumulating
//    two products in int16 first, as vmlal_s8 would, overflows for -128 * -128 * 2.)
//
// Register tiles of 4 rows x 16 columns (4 q registers per row) of int32
// sums. Only the dot product kernel is compiled for armv8.2-a+dotprod (a
// target attribute); the rest of the file keeps the baseline.
#include "backends/xnnpack/simd/qgemm_internal.h"

#if defined(EDGEGEN_QGEMM_ARM)

#include <arm_neon.h>

namespace edgegen {
namespace simd {
namespace qgemm {

namespace {

constexpr size_t kColumns = 16;
constexpr int kRows = 4;

// One row of a register tile: 16 int32 sums, one per column of the block.
// (Named rows, not arrays of vectors, and accumulate() not inlined, as in
// the x86 kernels: GCC 12 keeps them in registers then.)
struct Row {
  int32x4_t v0, v1, v2, v3;
};

// Rows of A as they are, padded with zeros to the row length; a row in
// `runs` pieces (QGemmRowRuns) is gathered run after run.
void pack_panel(const int8_t* a, size_t lda, size_t rows, size_t k_size, size_t row_bytes, uint8_t* panel,
                size_t runs, size_t run_stride) {
  const size_t run_bytes = k_size / runs;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t run = 0; run < runs; ++run)
      std::memcpy(panel + r * row_bytes + run * run_bytes, a + r * lda + run * run_stride, run_bytes);
    std::memset(panel + r * row_bytes + k_size, 0, row_bytes - k_size);
  }
}

struct NeonKernel {
  static constexpr IsaLayout kLayout = isa_layout(QGemmIsa::kNeon);
  static_assert(kLayout.n_block == kColumns && kLayout.k_group == 2 && kLayout.panel_rows == kRows, "layout");

  // sum += A[row, 2g], A[row, 2g + 1] . B[2g, 2g + 1][16 columns]
  __attribute__((always_inline)) static void multiply_add(Row& sum, const uint8_t* a, int8x16_t b0, int8x16_t b1) {
    int16_t pair;
    std::memcpy(&pair, a, 2);
    const int8x16_t a2 = vreinterpretq_s8_s16(vdupq_n_s16(pair));
    sum.v0 = vpadalq_s16(sum.v0, vmull_s8(vget_low_s8(b0), vget_low_s8(a2)));
    sum.v1 = vpadalq_s16(sum.v1, vmull_high_s8(b0, a2));
    sum.v2 = vpadalq_s16(sum.v2, vmull_s8(vget_low_s8(b1), vget_low_s8(a2)));
    sum.v3 = vpadalq_s16(sum.v3, vmull_high_s8(b1, a2));
  }

  template <int kRowsHere>
  __attribute__((noinline)) static void accumulate(const uint8_t* panel, size_t row_bytes, const int8_t* block,
                                                   size_t groups, Row* acc) {
    static_assert(kRowsHere >= 1 && kRowsHere <= kRows, "up to 4 rows");
    Row s0 = acc[0], s1{}, s2{}, s3{};
    if (kRowsHere > 1) s1 = acc[1];
    if (kRowsHere > 2) s2 = acc[2];
    if (kRowsHere > 3) s3 = acc[3];
    for (size_t g = 0; g < groups; ++g, panel += 2, block += 32) {
      const int8x16_t b0 = vld1q_s8(block), b1 = vld1q_s8(block + 16);
      multiply_add(s0, panel, b0, b1);
      if (kRowsHere > 1) multiply_add(s1, panel + row_bytes, b0, b1);
      if (kRowsHere > 2) multiply_add(s2, panel + 2 * row_bytes, b0, b1);
      if (kRowsHere > 3) multiply_add(s3, panel + 3 * row_bytes, b0, b1);
    }
    acc[0] = s0;
    if (kRowsHere > 1) acc[1] = s1;
    if (kRowsHere > 2) acc[2] = s2;
    if (kRowsHere > 3) acc[3] = s3;
  }
};

#if defined(EDGEGEN_QGEMM_ARM_DOT)
#define EDGEGEN_QGEMM_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

struct NeonDotKernel {
  static constexpr IsaLayout kLayout = isa_layout(QGemmIsa::kNeonDot);
  static_assert(kLayout.n_block == kColumns && kLayout.k_group == 4 && kLayout.panel_rows == kRows, "layout");

  // sum += A[row, 4(g + lane) .. 4(g + lane) + 3] . B[same k][16 columns],
  // the 4 bytes of A being lane `kLane` of a16.
  template <int kLane>
  __attribute__((always_inline)) EDGEGEN_QGEMM_DOTPROD static void multiply_add(Row& sum, int8x16_t a16,
                                                                               const int8_t* b) {
    sum.v0 = vdotq_laneq_s32(sum.v0, vld1q_s8(b), a16, kLane);
    sum.v1 = vdotq_laneq_s32(sum.v1, vld1q_s8(b + 16), a16, kLane);
    sum.v2 = vdotq_laneq_s32(sum.v2, vld1q_s8(b + 32), a16, kLane);
    sum.v3 = vdotq_laneq_s32(sum.v3, vld1q_s8(b + 48), a16, kLane);
  }

  // 4 bytes of A in every lane.
  __attribute__((always_inline)) static int8x16_t four_bytes(const int8_t* a) {
    int32_t four;
    std::memcpy(&four, a, 4);
    return vreinterpretq_s8_s32(vdupq_n_s32(four));
  }

  template <int kLane>
  __attribute__((always_inline)) EDGEGEN_QGEMM_DOTPROD static void group(Row& s0, Row& s1, Row& s2, Row& s3,
                                                                        int8x16_t a0, int8x16_t a1, int8x16_t a2,
                                                                        int8x16_t a3, const int8_t* b,
                                                                        int rows) {
    multiply_add<kLane>(s0, a0, b);
    if (rows > 1) multiply_add<kLane>(s1, a1, b);
    if (rows > 2) multiply_add<kLane>(s2, a2, b);
    if (rows > 3) multiply_add<kLane>(s3, a3, b);
  }

  // Groups of 4 k four at a time: 16 bytes of each row of A, then 4 x 64
  // bytes of B; the last groups one at a time, from 4 bytes of A.
  template <int kRowsHere>
  __attribute__((noinline)) EDGEGEN_QGEMM_DOTPROD static void accumulate(const uint8_t* panel, size_t row_bytes,
                                                                         const int8_t* block, size_t groups,
                                                                         Row* acc) {
    static_assert(kRowsHere >= 1 && kRowsHere <= kRows, "up to 4 rows");
    Row s0 = acc[0], s1{}, s2{}, s3{};
    if (kRowsHere > 1) s1 = acc[1];
    if (kRowsHere > 2) s2 = acc[2];
    if (kRowsHere > 3) s3 = acc[3];
    const auto* a = reinterpret_cast<const int8_t*>(panel);
    const int8x16_t zero = vdupq_n_s8(0);
    size_t g = 0;
    for (; g + 4 <= groups; g += 4, a += 16, block += 256) {
      const int8x16_t a0 = vld1q_s8(a);
      const int8x16_t a1 = kRowsHere > 1 ? vld1q_s8(a + row_bytes) : zero;
      const int8x16_t a2 = kRowsHere > 2 ? vld1q_s8(a + 2 * row_bytes) : zero;
      const int8x16_t a3 = kRowsHere > 3 ? vld1q_s8(a + 3 * row_bytes) : zero;
      group<0>(s0, s1, s2, s3, a0, a1, a2, a3, block, kRowsHere);
      group<1>(s0, s1, s2, s3, a0, a1, a2, a3, block + 64, kRowsHere);
      group<2>(s0, s1, s2, s3, a0, a1, a2, a3, block + 128, kRowsHere);
      group<3>(s0, s1, s2, s3, a0, a1, a2, a3, block + 192, kRowsHere);
    }
    for (; g < groups; ++g, a += 4, block += 64) {
      const int8x16_t a0 = four_bytes(a);
      const int8x16_t a1 = kRowsHere > 1 ? four_bytes(a + row_bytes) : zero;
      const int8x16_t a2 = kRowsHere > 2 ? four_bytes(a + 2 * row_bytes) : zero;
      const int8x16_t a3 = kRowsHere > 3 ? four_bytes(a + 3 * row_bytes) : zero;
      group<0>(s0, s1, s2, s3, a0, a1, a2, a3, block, kRowsHere);
    }
    acc[0] = s0;
    if (kRowsHere > 1) acc[1] = s1;
    if (kRowsHere > 2) acc[2] = s2;
    if (kRowsHere > 3) acc[3] = s3;
  }
};
#endif  // EDGEGEN_QGEMM_ARM_DOT

// The fp32 requantization of 4 sums, as qgemm_internal.h's requantize().
inline int32x4_t requantize(int32x4_t acc, float32x4_t scale, const RequantConstants& k) {
  float32x4_t value = vmulq_f32(vcvtq_f32_s32(acc), scale);
  value = vmaxq_f32(vmulq_f32(value, vdupq_n_f32(k.negative_slope)), value);
  value = vmaxq_f32(value, vdupq_n_f32(k.min_less_zero_point));
  value = vminq_f32(value, vdupq_n_f32(k.max_less_zero_point));
  value = vaddq_f32(value, vdupq_n_f32(kMagicBias));
  return vsubq_s32(vreinterpretq_s32_f32(value), vdupq_n_s32(k.magic_less_zero_point));
}

// Writes columns [lo, hi) of one row's 16 sums; c_row points at column 0 of the block.
template <bool kInt8Output>
inline void store_row(const Row& acc, size_t lo, size_t hi, uint8_t* c_row, const float32x4_t* scale,
                      const RequantConstants& k) {
  const bool whole = lo == 0 && hi == kColumns;
  if (kInt8Output) {
    // The values are in [-128, 127] already: narrowing keeps them.
    const int16x8_t words01 =
        vcombine_s16(vmovn_s32(requantize(acc.v0, scale[0], k)), vmovn_s32(requantize(acc.v1, scale[1], k)));
    const int16x8_t words23 =
        vcombine_s16(vmovn_s32(requantize(acc.v2, scale[2], k)), vmovn_s32(requantize(acc.v3, scale[3], k)));
    const int8x16_t bytes = vcombine_s8(vmovn_s16(words01), vmovn_s16(words23));
    if (whole) {
      vst1q_s8(reinterpret_cast<int8_t*>(c_row), bytes);
    } else {
      int8_t values[kColumns];
      vst1q_s8(values, bytes);
      for (size_t j = lo; j < hi; ++j) c_row[j] = static_cast<uint8_t>(values[j]);
    }
  } else {
    auto* c32 = reinterpret_cast<int32_t*>(c_row);
    int32_t values[kColumns];
    int32_t* out = whole ? c32 : values;
    vst1q_s32(out, acc.v0);
    vst1q_s32(out + 4, acc.v1);
    vst1q_s32(out + 8, acc.v2);
    vst1q_s32(out + 12, acc.v3);
    if (!whole)
      for (size_t j = lo; j < hi; ++j) c32[j] = values[j];
  }
}

template <typename Kernel, int kRowsHere, bool kInt8Output>
void tile(const RowSource& rows, const int8_t* block, const int32_t* corrections, size_t lo, size_t hi, uint8_t* c,
          size_t c_row_bytes, const float32x4_t* scale, const RequantConstants& k) {
  const Row correction = {vld1q_s32(corrections), vld1q_s32(corrections + 4), vld1q_s32(corrections + 8),
                          vld1q_s32(corrections + 12)};
  Row acc[kRowsHere];
  for (int r = 0; r < kRowsHere; ++r) acc[r] = correction;
  constexpr size_t kGroupBytes = Kernel::kLayout.n_block * Kernel::kLayout.k_group;
  for (size_t run = 0; run < rows.runs; ++run)
    Kernel::template accumulate<kRowsHere>(rows.first + run * rows.run_stride, rows.row_bytes,
                                           block + run * rows.run_groups * kGroupBytes, rows.run_groups, acc);
  for (int r = 0; r < kRowsHere; ++r) store_row<kInt8Output>(acc[r], lo, hi, c + r * c_row_bytes, scale, k);
}

template <typename Kernel, bool kInt8Output>
void run(const RunArgs& args) {
  constexpr size_t out_bytes = kInt8Output ? 1 : 4;
  const PackedHeader& h = *args.header;
  const size_t row_bytes = panel_row_bytes(Kernel::kLayout, h.k);
  const size_t groups = h.k_padded / Kernel::kLayout.k_group;
  auto* panel = static_cast<uint8_t*>(args.scratch);
  auto* c = static_cast<uint8_t*>(args.c);
  RequantConstants constants{};
  if (kInt8Output) constants = requant_constants(*args.requantization);
  for (size_t m = args.m_begin; m < args.m_end; m += kRows) {
    const size_t rows = args.m_end - m < kRows ? args.m_end - m : kRows;
    // In place: the caller's runs as they are (signed, as the kernels take them).
    if (!args.in_place)
      pack_panel(args.a + m * args.lda, args.lda, rows, h.k, row_bytes, panel, args.runs, args.run_stride);
    const RowSource source = row_source(args, Kernel::kLayout, m, panel, row_bytes, groups);
    for (size_t block = args.n_begin / kColumns; block * kColumns < args.n_end; ++block) {
      const size_t first = block * kColumns;
      const size_t lo = args.n_begin > first ? args.n_begin - first : 0;
      const size_t hi = args.n_end - first < kColumns ? args.n_end - first : kColumns;
      float32x4_t scale[4] = {};
      if (kInt8Output) {
        // Only columns [lo, hi) of the caller's array exist.
        float values[kColumns] = {};
        const float* column_scale = args.requantization->scale + first;
        const bool whole = lo == 0 && hi == kColumns;
        if (!whole)
          for (size_t j = lo; j < hi; ++j) values[j] = column_scale[j];
        const float* source = whole ? column_scale : values;
        for (int v = 0; v < 4; ++v) scale[v] = vld1q_f32(source + 4 * v);
      }
      const int8_t* weights = args.weights + block * h.block_bytes;
      const int32_t* corrections = args.corrections + first;
      uint8_t* c_tile = c + (m * args.ldc + first) * out_bytes;
      const size_t c_row_bytes = args.ldc * out_bytes;
      switch (rows) {
#define EDGEGEN_QGEMM_TILE(R)                                                                                   \
  case R:                                                                                                       \
    tile<Kernel, R, kInt8Output>(source, weights, corrections, lo, hi, c_tile, c_row_bytes, scale, constants); \
    break;
        EDGEGEN_QGEMM_TILE(1)
        EDGEGEN_QGEMM_TILE(2)
        EDGEGEN_QGEMM_TILE(3)
        EDGEGEN_QGEMM_TILE(4)
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

void run_neon(const RunArgs& args) { run_kernel<NeonKernel>(args); }
#if defined(EDGEGEN_QGEMM_ARM_DOT)
void run_neondot(const RunArgs& args) { run_kernel<NeonDotKernel>(args); }
#endif

}  // namespace qgemm
}  // namespace simd
}  // namespace edgegen

#endif  // EDGEGEN_QGEMM_ARM
